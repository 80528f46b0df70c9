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
