// Where the server is, from flags over the environment. Apart from the API client, so that the
// worker and the process commands do not load undici to read a URL.
import { loadConfig } from "../config/config";
import { NoetlError } from "../errors";

export interface ServerAddress {
  serverUrl?: string;
  host?: string;
  port?: string | number;
  token?: string;
}

/** --server-url and --token override the environment; --host/--port replace parts of that URL. */
export function serverUrl(opts: ServerAddress): { url: string; token?: string } {
  const config = loadConfig(process.env, {
    NOETL_SERVER_URL: opts.serverUrl,
    NOETL_API_TOKEN: opts.token === undefined ? undefined : String(opts.token),
  });
  if (opts.host === undefined && opts.port === undefined)
    return { url: config.serverUrl, token: config.apiToken };
  const u = new URL(config.serverUrl);
  if (opts.host !== undefined) {
    const host = String(opts.host);
    if (!/^[\w.-]+$|^\[[0-9a-fA-F:]+\]$/.test(host))
      throw new NoetlError("USAGE", `--host "${host}" is not valid: expected a host name or IP address`);
    u.hostname = host;
  }
  if (opts.port !== undefined) {
    const port = String(opts.port);
    if (!/^\d{1,5}$/.test(port) || Number(port) > 65535)
      throw new NoetlError("USAGE", `--port "${port}" is not valid: expected a port number (1-65535)`);
    u.port = port;
  }
  return { url: u.toString().replace(/\/$/, ""), token: config.apiToken };
}
