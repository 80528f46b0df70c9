// Asserts that an engine-harness operation reported no error (the errors are printed when it did).
import { expect } from "chai";
import type { OperationResult } from "../engine";

export function ok(r: OperationResult): OperationResult {
  expect(r.errors, JSON.stringify(r.errors)).to.deep.equal([]);
  return r;
}
