// Loads a template from the package's templates/ directory and renders it with a private handlebars
// environment. Everything happens at call time: no module-level handlebars instance or compiled template, so
// the provider's closure serializes (Pulumi copies local modules by value) and templates are read fresh.
import * as fs from "fs";
import * as path from "path";
import { clusterConfValue, fstabField, integerLiteral, pythonString, shellWord } from "./escape";

/** The package root: the nearest ancestor of this file holding package.json and templates/ (src or dist). */
export function packageRoot(from: string = __dirname): string {
  let dir = from;
  for (;;) {
    if (fs.existsSync(path.join(dir, "package.json")) && fs.existsSync(path.join(dir, "templates"))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`ovm-ha: no templates/ directory found above ${from}`);
    dir = parent;
  }
}

export function templatePath(name: string): string {
  return path.join(packageRoot(), "templates", name);
}

/**
 * Renders templates/<name> with `context`. Handlebars runs with noEscape (HTML escaping is wrong for config
 * files) and strict (a missing field throws); values go through the escaping helpers named in the templates.
 */
export function renderTemplate(name: string, context: object): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const handlebars = require("handlebars") as typeof import("handlebars");
  const env = handlebars.create();
  env.registerHelper("py", (v: unknown) => pythonString(v));
  env.registerHelper("int", (v: unknown) => integerLiteral(v));
  env.registerHelper("conf", (v: unknown) => clusterConfValue(v));
  env.registerHelper("sh", (v: unknown) => shellWord(v));
  env.registerHelper("fstab", (v: unknown) => fstabField(v));
  const source = fs.readFileSync(templatePath(name), "utf8");
  return env.compile(source, { noEscape: true, strict: true })(context);
}
