// A TCP relay per etcd member for one replica, that can be cut: after cut(), nothing passes in either direction
// and new connections are accepted and left hanging (packets dropped, as by a firewall), while the replica process
// and every other party keep running. The cut is between this replica and etcd only.
import * as net from "net";

export class BlackholeProxy {
  #servers: net.Server[] = [];
  #sockets = new Set<net.Socket>();
  #cut = false;
  readonly endpoints: string[] = [];

  static async start(targets: string[]): Promise<BlackholeProxy> {
    const p = new BlackholeProxy();
    for (const t of targets) {
      const u = new URL(t);
      const server = net.createServer((client) => {
        p.#sockets.add(client);
        client.on("close", () => p.#sockets.delete(client));
        client.on("error", () => undefined);
        if (p.#cut) return; // held open, nothing relayed
        const upstream = net.connect(Number(u.port), u.hostname);
        p.#sockets.add(upstream);
        upstream.on("close", () => p.#sockets.delete(upstream));
        upstream.on("error", () => client.destroy());
        client.on("data", (d) => { if (!p.#cut) upstream.write(d); });
        upstream.on("data", (d) => { if (!p.#cut) client.write(d); });
        client.on("end", () => upstream.end());
        upstream.on("end", () => client.end());
      });
      await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
      p.#servers.push(server);
      p.endpoints.push(`http://127.0.0.1:${(server.address() as net.AddressInfo).port}`);
    }
    return p;
  }

  cut(): void {
    this.#cut = true;
  }

  /** Relays again: the connections held during the cut are dropped, so the clients connect afresh. */
  heal(): void {
    for (const s of this.#sockets) s.destroy();
    this.#cut = false;
  }

  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await Promise.all(this.#servers.map((s) => new Promise((r) => s.close(r))));
  }
}
