// Quoting is the only defence between user values and a remote shell: each hostile value must come back from
// a real local `sh` exactly as given (the same shell grammar the server uses).
import { expect } from "chai";
import { execFileSync } from "child_process";
import {
  allOf,
  MASK,
  pipeline,
  quote,
  QuoteError,
  redirect,
  renderCommand,
  secret,
  shellWithArgs,
} from "../../provider/ssh/quote";

export const HOSTILE: string[] = [
  "",
  " ",
  "plain",
  "it's",
  "'",
  "''",
  '"double"',
  "$(touch /tmp/pwned)",
  "`id`",
  "${HOME}",
  "$HOME",
  "a\nb",
  "\n",
  "trailing\n\n",
  "a;b",
  "a|b",
  "a&b",
  "a&&b",
  "*",
  "?",
  "[a-z]*",
  "~",
  "~root",
  "-n",
  "--help",
  "-e\\n",
  "back\\slash\\",
  "tab\there",
  "unicodé ✓ 日本",
  "#comment",
  "!bang",
  "a b  c",
  "> /etc/passwd",
  "\r\x1b[31m",
  "%s%n",
];

// printf %s does not interpret its argument: the shell's view of the word is what comes out.
function roundTripLocally(value: string): string {
  return execFileSync("sh", ["-c", renderCommand(["printf", "%s", value]).line], { encoding: "utf8" });
}

describe("ssh quote", () => {
  for (const v of HOSTILE) {
    it(`round-trips ${JSON.stringify(v)} through sh`, () => {
      expect(roundTripLocally(v)).to.equal(v);
    });
  }

  it("quotes the empty string as ''", () => {
    expect(quote("")).to.equal("''");
  });

  it("leaves plain words alone and quotes everything else", () => {
    expect(quote("/var/lib/x-1.2")).to.equal("/var/lib/x-1.2");
    expect(quote("a b")).to.equal("'a b'");
    expect(quote("it's")).to.equal("'it'\\''s'");
  });

  it("rejects NUL with a clear error", () => {
    expect(() => quote("a\0b")).to.throw(QuoteError, /NUL/);
    expect(() => renderCommand(["echo", secret("x\0")])).to.throw(QuoteError, /NUL/);
  });

  it("keeps a whole argv as separate words", () => {
    const line = renderCommand(["sh", "-c", 'printf "%s|" "$@"', "sh", "a b", "$(x)", "", "'"]).line;
    expect(execFileSync("sh", ["-c", line], { encoding: "utf8" })).to.equal("a b|$(x)||'|");
  });

  it("renders secrets in the line and masks them in the display", () => {
    const r = renderCommand(["login", "--password", secret("hunter2 'x'")]);
    expect(r.line).to.contain("hunter2");
    expect(r.display).to.equal(`login --password ${MASK}`);
    expect(r.display).not.to.contain("hunter2");
    expect(r.secrets).to.deep.equal(["hunter2 'x'"]);
    expect(String(secret("s3"))).to.equal(MASK);
    expect(JSON.stringify({ a: secret("s3") })).to.equal(`{"a":"${MASK}"}`);
  });

  it("wraps for sudo as sudo -n -- sh -c LINE, masking inside too", () => {
    const r = renderCommand(["echo", secret("pw"), "it's"], { sudo: true });
    expect(r.line.startsWith("sudo -n -- sh -c ")).to.equal(true);
    expect(r.display).not.to.contain("pw'");
    expect(r.display).to.contain(MASK);
    // Without sudo itself, the inner line is what `sh -c` gets: run it through a local sh.
    const inner = r.line.replace(/^sudo -n -- /, "");
    expect(execFileSync("sh", ["-c", `set -- ${inner}; "$@"`], { encoding: "utf8" })).to.equal("pw it's\n");
  });

  it("composes pipelines, && and redirections from quoted parts", () => {
    const dir = execFileSync("mktemp", ["-d"], { encoding: "utf8" }).trim();
    const file = `${dir}/out file;$(x)`;
    const cmd = allOf(
      redirect(pipeline(["printf", "%s\\n", "b", "a"], ["sort"]), { stdout: file }),
      ["cat", file],
    );
    expect(execFileSync("sh", ["-c", renderCommand(cmd).line], { encoding: "utf8" })).to.equal("a\nb\n");
    execFileSync("rm", ["-rf", dir]);
  });

  it("passes values to sh -c scripts as positional arguments", () => {
    const line = renderCommand(shellWithArgs('printf %s "$1"', "$(rm -rf /) `x`")).line;
    expect(execFileSync("sh", ["-c", line], { encoding: "utf8" })).to.equal("$(rm -rf /) `x`");
  });
});
