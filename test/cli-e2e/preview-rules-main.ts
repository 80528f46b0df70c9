// Entry point of the preview-rules test's Pulumi program (see preview-rules-program.ts).
import { previewRulesPool } from "./preview-rules-program";

export = previewRulesPool();
