// A create or update that failed part-way: thrown with the resource's id and what was done, so that the engine
// keeps the resource in state as created-but-failed (ErrorResourceInitFailed) and the next `up` resumes it,
// instead of forgetting a half-configured server.
export class PartialFailureError extends Error {
  constructor(
    message: string,
    readonly id: string,
    readonly properties: Record<string, unknown>,
    readonly reasons: string[],
  ) {
    super(message);
    this.name = "PartialFailureError";
  }
}
