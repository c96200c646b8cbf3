// The Prometheus exporter's listen address. The SDK's core binds a socket address literally (no name
// lookup), so only an IP literal and a port are accepted: `0.0.0.0:9464`, `127.0.0.1:9464`, `[::]:9464`.

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const IPV6 = /^[0-9A-Fa-f:.]+$/;

/** Null when `value` is an address the exporter can bind, else why not (in words that name the value). */
export function metricsAddressProblem(value: string): string | null {
  const m = /^(?:\[([^\]]*)\]|([^:[\]]*)):(\d{1,5})$/.exec(value);
  const why = `metrics address ${JSON.stringify(value)} must be IP:PORT, e.g. 0.0.0.0:9464, 127.0.0.1:9464 or [::]:9464`;
  if (!m) return why;
  const [, v6, v4, port] = m;
  if (v6 !== undefined ? !(IPV6.test(v6) && v6.includes(':')) : !IPV4.test(v4!)) return `${why} (a host name is not allowed: the exporter binds without a name lookup)`;
  const p = Number(port);
  if (p < 1 || p > 65535) return `${why} (port ${port} is out of range 1-65535)`;
  return null;
}
