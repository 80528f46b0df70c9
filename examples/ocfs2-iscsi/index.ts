// The Pulumi entry point: everything is in program.ts, so tests and the demo can run the same program.
import { ocfs2IscsiPool } from "./program";

export = ocfs2IscsiPool();
