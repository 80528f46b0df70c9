// A replica as its own process (so that SIGSTOP and SIGKILL are real): campaigns, prints LEADING <token>, and once
// told (a line "commit" on stdin) tries a leadership-bound write and prints COMMITTED or REFUSED; prints DEPOSED
// when it learns it lost the leadership. Usage: node campaigner.js ENDPOINTS PREFIX NAME TTL
import { Replica } from "../../watchdog/replica/replica";
import { EtcdConfigSchema } from "../../watchdog/replica/etcd-config";

const [endpoints, prefix, name, ttl] = process.argv.slice(2);
const r = new Replica(EtcdConfigSchema.parse({ endpoints: endpoints.split(","), prefix, name, leaseTtlSeconds: Number(ttl) }), { info: () => undefined, warn: () => undefined }, 500);
void r.awaitLeadership().then((token) => {
  process.stdout.write(`LEADING ${token}\n`);
  void r.deposed.then(() => process.stdout.write("DEPOSED\n"));
});
process.stdin.on("data", (d) => {
  if (!d.toString().includes("commit")) return;
  r.commit(JSON.stringify({ servers: {}, guests: { late: { status: { state: "starting" } } } }), true).then(
    () => process.stdout.write("COMMITTED\n"),
    () => process.stdout.write("REFUSED\n"),
  );
});
