// How many commands per second one lab server answers over one SSH connection with the channel bound.
// Usage: sh scripts/node22 node dist/bench/ssh-throughput.js [commands=500] [channels=8]
import * as fs from "fs";
import { SshPool } from "../provider/ssh";
import { startTestLab } from "../test/support/lab";

async function main(): Promise<void> {
  const total = Number(process.argv[2] ?? 500);
  const channels = Number(process.argv[3] ?? 8);
  const lab = await startTestLab({ servers: 1 });
  const pool = new SshPool({
    credentials: { user: "root", privateKey: fs.readFileSync(lab.info.privateKeyPath) },
    maxChannelsPerConnection: channels,
  });
  try {
    const s = lab.info.servers[0];
    const server = { name: s.name, address: s.address, port: s.port, hostKeyFingerprint: s.hostKeyFingerprint };
    await pool.exec(server, ["true"]); // connect outside the measurement
    const t0 = process.hrtime.bigint();
    await Promise.all(Array.from({ length: total }, () => pool.exec(server, ["true"])));
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const st = pool.stats(s.name);
    console.log(
      JSON.stringify({
        commands: total,
        channels,
        seconds: Number(seconds.toFixed(3)),
        commandsPerSecond: Number((total / seconds).toFixed(1)),
        connectionsOpened: st.connectionsOpened,
        maxOpenChannels: st.maxOpenChannels,
      }),
    );
  } finally {
    pool.close();
    await lab.down();
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
