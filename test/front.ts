// A front process's server in the test's own process, with the APIs it answers itself and no web
// process behind it (its proxy points at a closed port): for tests of the front's fast paths.
import type { AddressInfo } from "node:net";
import { createFrontServer, type FrontOptions } from "../server/front/server";
import { createApiHandler } from "../server/web/api";

/**
 * A front listening on a free loopback port (`opts` beside its defaults): `base` is its origin;
 * `stop` closes it and its connections.
 */
export async function startApiFront(opts: Partial<FrontOptions> = {}) {
  const front = createFrontServer({ webOrigin: "http://127.0.0.1:9", api: createApiHandler(), ...opts });
  await new Promise<void>((r) => front.listen(0, "127.0.0.1", r));
  return {
    front,
    base: `http://127.0.0.1:${(front.address() as AddressInfo).port}`,
    stop: async () => {
      front.closeAllConnections();
      await new Promise((r) => front.close(r));
    },
  };
}
