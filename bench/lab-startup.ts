// Benchmark: time to bring up and tear down a lab of 3 and of 16 servers (wall clock, one run each by default).
// Run: sh scripts/node22 node dist/bench/lab-startup.js [runs]
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { labDown, labUp } from "../lab/lab";

async function measure(servers: number): Promise<{ up: number; down: number }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `ovm-ha-bench-${servers}-`));
  try {
    const t0 = process.hrtime.bigint();
    await labUp({ dir, servers, lunSizeMb: 256 });
    const t1 = process.hrtime.bigint();
    await labDown(dir);
    const t2 = process.hrtime.bigint();
    return { up: Number(t1 - t0) / 1e6, down: Number(t2 - t1) / 1e6 };
  } finally {
    await labDown(dir).catch(() => undefined);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const runs = Number(process.argv[2] || 3);
  for (const n of [3, 16]) {
    const ups: number[] = [];
    const downs: number[] = [];
    for (let i = 0; i < runs; i++) {
      const r = await measure(n);
      ups.push(r.up);
      downs.push(r.down);
    }
    const fmt = (xs: number[]) => `min ${Math.min(...xs).toFixed(0)} ms, median ${xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)].toFixed(0)} ms, max ${Math.max(...xs).toFixed(0)} ms`;
    console.log(`lab of ${String(n).padStart(2)} servers: up ${fmt(ups)}; down ${fmt(downs)} (${runs} runs)`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
