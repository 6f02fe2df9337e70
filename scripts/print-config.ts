import { loadConfig } from '@usageguard/config';

/** Prints the settings scripts/start.sh needs as shell assignments (validated like every app's configuration). */
const c = loadConfig();
const smtp = new URL(c.mail.smtpUrl);
const upstream = new URL(c.http.edge.upstreamUrl);
const values: Record<string, string | number> = {
  dashboard_port: c.http.ports.dashboard,
  edge_port: c.http.edge.port,
  edge_admin_port: c.edge.adminPort,
  http_host: c.http.host,
  smtp_port: smtp.port || 25,
  upstream_port: upstream.port || 80,
};
console.log(
  Object.entries(values)
    .map(([name, value]) => `${name}=${String(value)}`)
    .join('\n'),
);
