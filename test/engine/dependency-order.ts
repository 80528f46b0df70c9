// Orders resources so that each comes after what it depends on (its dependencies and its parent), keeping the
// given order where there is no constraint. Deletes run in the reverse of this order, as the engine's do.

export interface Dependent {
  urn: string;
  dependencies: readonly string[];
  parent?: string;
}

export function dependencyOrder<T extends Dependent>(items: readonly T[]): T[] {
  const byUrn = new Map<string, T[]>();
  for (const it of items) byUrn.set(it.urn, [...(byUrn.get(it.urn) ?? []), it]);
  const done = new Set<T>();
  const visiting = new Set<T>();
  const out: T[] = [];
  const visit = (it: T): void => {
    if (done.has(it)) return;
    if (visiting.has(it)) throw new Error(`dependency cycle through ${it.urn}`);
    visiting.add(it);
    for (const dep of [...it.dependencies, ...(it.parent ? [it.parent] : [])]) {
      for (const d of byUrn.get(dep) ?? []) if (d !== it) visit(d);
    }
    visiting.delete(it);
    done.add(it);
    out.push(it);
  };
  for (const it of items) visit(it);
  return out;
}

export function deleteOrder<T extends Dependent>(items: readonly T[]): T[] {
  return dependencyOrder(items).reverse();
}

/**
 * Deletes as the engine does: in parallel, each resource as soon as everything that depends on it (its
 * dependents and children) is gone. After the first failure no new delete starts (those running finish), and
 * what depends on nothing left is kept. Resolves with the first error, or undefined.
 */
export async function deleteInParallel<T extends Dependent>(items: readonly T[], del: (item: T) => Promise<void>): Promise<unknown> {
  const ordered = dependencyOrder(items);
  const set = new Set(ordered);
  // item -> the items that must be deleted before it (those depending on it).
  const waitFor = new Map<T, Set<T>>(ordered.map((it) => [it, new Set<T>()]));
  for (const it of ordered) {
    for (const dep of [...it.dependencies, ...(it.parent ? [it.parent] : [])]) {
      for (const d of ordered) if (d !== it && d.urn === dep && set.has(d)) waitFor.get(d)!.add(it);
    }
  }
  let failure: unknown;
  let failed = false;
  const started = new Set<T>();
  const running = new Set<Promise<void>>();
  const startReady = () => {
    if (failed) return;
    for (const it of ordered) {
      if (started.has(it) || waitFor.get(it)!.size > 0) continue;
      started.add(it);
      const p: Promise<void> = del(it).then(
        () => {
          for (const w of waitFor.values()) w.delete(it);
        },
        (e) => {
          if (!failed) failure = e;
          failed = true;
        },
      ).finally(() => {
        running.delete(p);
        startReady();
      });
      running.add(p);
    }
  };
  startReady();
  while (running.size > 0) await Promise.race(running);
  return failed ? failure : undefined;
}
