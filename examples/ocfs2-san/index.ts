// The Pulumi entry point: everything is in program.ts, so tests and the demo can run the same program.
import { ocfs2SanPool } from "./program";

export = ocfs2SanPool();
