// The object Pulumi serializes into state for each resource type. It must stay thin: its methods only `require`
// the package's operations module at call time (by absolute path, with the package name as a fallback when the
// project moved), so no zod schema, handlebars instance or credential is ever captured in the closure.
import type * as pulumi from "@pulumi/pulumi";

/** What an operations module (provider/ops/*.ts) exports. */
export interface ResourceOperations {
  check(olds: Record<string, unknown>, news: Record<string, unknown>): Promise<pulumi.dynamic.CheckResult>;
  diff(id: string, olds: Record<string, unknown>, news: Record<string, unknown>): Promise<pulumi.dynamic.DiffResult>;
  create(inputs: Record<string, unknown>): Promise<pulumi.dynamic.CreateResult>;
  read(id: string, props: Record<string, unknown>): Promise<pulumi.dynamic.ReadResult>;
  update(id: string, olds: Record<string, unknown>, news: Record<string, unknown>): Promise<pulumi.dynamic.UpdateResult>;
  delete(id: string, props: Record<string, unknown>): Promise<void>;
}

const providers = new Map<string, pulumi.dynamic.ResourceProvider>();

/**
 * @param absolutePath require.resolve() of the ops module, captured as a string.
 * @param packagePath the same module by package name, e.g. "ovm-ha/dist/provider/ops/shared-disk".
 */
export function makeProvider(absolutePath: string, packagePath: string, sessionAbsolutePath: string, sessionPackagePath: string): pulumi.dynamic.ResourceProvider {
  // One object per resource type: the SDK serializes a provider once per object (its cache is keyed by the
  // object), and a serialization costs 0.1 to 0.3 s of the program's single thread: 64 Guests each with their own
  // object delayed every registration of a 64-guest pool by seconds, at every preview, up and refresh.
  const key = [absolutePath, packagePath, sessionAbsolutePath, sessionPackagePath].join("\0");
  let made = providers.get(key);
  if (!made) providers.set(key, (made = newProvider(absolutePath, packagePath, sessionAbsolutePath, sessionPackagePath)));
  return made;
}

function newProvider(absolutePath: string, packagePath: string, sessionAbsolutePath: string, sessionPackagePath: string): pulumi.dynamic.ResourceProvider {
  const load = (abs: string, pkg: string) => {
    try {
      return require(abs);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "MODULE_NOT_FOUND") throw e;
      return require(pkg);
    }
  };
  return {
    async configure(req: pulumi.dynamic.ConfigureRequest) {
      load(sessionAbsolutePath, sessionPackagePath).configure(req.config);
    },
    async check(olds: Record<string, unknown>, news: Record<string, unknown>) {
      return load(absolutePath, packagePath).check(olds, news);
    },
    async diff(id: string, olds: Record<string, unknown>, news: Record<string, unknown>) {
      return load(absolutePath, packagePath).diff(id, olds, news);
    },
    async create(inputs: Record<string, unknown>) {
      try {
        return await load(absolutePath, packagePath).create(inputs);
      } catch (e) {
        // A part-way failure is kept in state with these properties; the SDK's host adds the serialized provider
        // only to successful results, and without it a later delete of that state cannot even load the provider.
        const err = e as { id?: string; properties?: Record<string, unknown> };
        if (err && err.id && err.properties && inputs.__provider !== undefined) err.properties.__provider = inputs.__provider;
        throw e;
      }
    },
    async read(id: string, props: Record<string, unknown>) {
      return load(absolutePath, packagePath).read(id, props);
    },
    async update(id: string, olds: Record<string, unknown>, news: Record<string, unknown>) {
      try {
        return await load(absolutePath, packagePath).update(id, olds, news);
      } catch (e) {
        const err = e as { id?: string; properties?: Record<string, unknown> };
        if (err && err.id && err.properties && news.__provider !== undefined) err.properties.__provider = news.__provider;
        throw e;
      }
    },
    async delete(id: string, props: Record<string, unknown>) {
      await load(absolutePath, packagePath).delete(id, props);
    },
  };
}

/** Resolves an ops module of this package for makeProvider. */
export function opsPaths(name: string): [string, string, string, string] {
  return [
    require.resolve(`../ops/${name}`),
    `ovm-ha/dist/provider/ops/${name}`,
    require.resolve("./session"),
    "ovm-ha/dist/provider/runtime/session",
  ];
}
