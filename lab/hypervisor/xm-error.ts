// An error xm reports as `Error: MESSAGE` on stderr with an exit code (3: unknown domain, else 1).
export class XmError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
  }
}

export const noSuchDomain = (dom: string) => new XmError(`Domain '${dom}' does not exist.`, 3);
export const alreadyExists = (name: string, id: number) => new XmError(`Domain '${name}' already exists with ID '${id}'`);
export const notRunning = () => new XmError("Domain is not running");
