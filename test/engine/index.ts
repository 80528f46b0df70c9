// The engine harness: drives dynamic providers the way the Pulumi engine does, without the Pulumi CLI.
export { Stack, StackOptions, OperationResult, Step, StepOp, EngineError } from "./stack";
export { StateResource } from "./stack-state";
export { Program, Registration } from "./program-run";
export { ProviderMethod, CheckFailure, ProviderCallError } from "./provider-host";
export { UNKNOWN, SIG_KEY, SECRET_SIG } from "./wire-values";
