// A failed SharedDisk step reads "<step> on <server> failed (exit N): <last lines of stderr>": never the command
// or the script behind it.
import { expect } from "chai";
import { RemoteCommandError } from "../../provider/ssh";
import { lastLines, SharedDiskStepError, step } from "../../provider/ops/shared-disk/step";

const server = { name: "ovs1", address: "127.0.0.1", port: 22 };

describe("ops: SharedDisk step errors", () => {
  it("name the step, the server, the exit code and the last lines of stderr, not the script", async () => {
    const script = "sh -c 'set -e\nmkdir -p -- \"$1\"\nsecret-looking-line'";
    const stderr = "line 1\nline 2\n\nsfdisk: /dev/sdb: cannot open\nsfdisk: last line\n";
    const err = await step("partitioning /dev/sdb (sfdisk)", server, async () => {
      throw new RemoteCommandError("ovs1", script, 1, null, stderr, "");
    }).then(() => undefined, (e: unknown) => e);
    expect(err).to.be.instanceOf(SharedDiskStepError);
    const msg = (err as Error).message;
    expect(msg).to.equal("partitioning /dev/sdb (sfdisk) on ovs1 failed (exit 1): line 2 / sfdisk: /dev/sdb: cannot open / sfdisk: last line");
    expect(msg).to.not.contain("set -e").and.to.not.contain("secret-looking-line");
  });

  it("a signal is 'killed'; other errors pass through unchanged", async () => {
    const killed = await step("formatting /dev/sdb1 (mkfs.ocfs2)", server, async () => {
      throw new RemoteCommandError("ovs1", "mkfs.ocfs2 ...", null, "KILL", "", "");
    }).catch((e: Error) => e);
    expect((killed as Error).message).to.equal("formatting /dev/sdb1 (mkfs.ocfs2) on ovs1 failed (killed)");
    const other = new Error("host key of ovs1 does not match");
    expect(await step("x", server, async () => { throw other; }).catch((e: unknown) => e)).to.equal(other);
    expect(await step("x", server, async () => 42)).to.equal(42);
  });

  it("keeps at most three non-empty trailing lines", () => {
    expect(lastLines("a\n\nb\nc\nd\n")).to.equal("b / c / d");
    expect(lastLines("")).to.equal("");
  });
});
