// mocha's spec reporter, with each failure naming its test file (`npm test` runs files in parallel workers, and
// a title alone does not say where to look): the file heads the failure's title path in the closing list.
import * as path from "path";
import * as Mocha from "mocha";

const ROOT = path.resolve(__dirname, "../../..");

/** The source file of a compiled test file: dist/test/x/y.test.js -> test/x/y.test.ts. */
function sourceOf(file: string): string {
  return path.relative(ROOT, file).replace(/^dist\//, "").replace(/\.js$/, ".ts");
}

class SpecWithFiles extends Mocha.reporters.Spec {
  override epilogue(): void {
    for (const t of this.failures as (Mocha.Test & { parent?: { file?: string } })[]) {
      const file = t.file ?? t.parent?.file;
      if (!file) continue;
      const titlePath = t.titlePath.bind(t);
      t.titlePath = () => [sourceOf(file), ...titlePath()];
    }
    super.epilogue();
  }
}

export = SpecWithFiles;
