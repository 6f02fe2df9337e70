import { type Command } from 'commander';
import { loadConfig } from '@usageguard/config';

interface Report {
  from: string;
  to: string;
  cells: number;
  totals: { kafka: number; stored: number; distinct: number; rollup: number };
  invalidMessages: number;
  pending: number;
  differences: { accountId: string; minute: string; kafka: number; stored: number; distinct: number; rollup: number }[];
  consistent: boolean;
}

/**
 * `usageguard reconcile --from … --to …`: asks the running control plane (or ingest app) to compare, per account ×
 * minute, what Kafka accepted with what ClickHouse holds. It goes through the HTTP API because embedded ClickHouse
 * (chDB) belongs to that process. Exit code 1 when any cell differs.
 */
export function registerReconcileCommand(program: Command): void {
  program
    .command('reconcile')
    .description('compare per account and minute what Kafka accepted with what ClickHouse holds')
    .requiredOption('--from <iso>', 'start of the window (ISO-8601)')
    .option('--to <iso>', 'end of the window (ISO-8601, default now)')
    .option('--account <id>', 'one account only')
    .option('--url <url>', 'the control plane or ingest app (default: the control plane on this machine)')
    .requiredOption('--key <ingestKey>', 'an ingest API key')
    .option('--json', 'print the report as JSON')
    .action(
      async (opts: { from: string; to?: string; account?: string; url?: string; key: string; json?: boolean }) => {
        const config = loadConfig();
        const base = opts.url ?? `http://${config.http.host}:${config.http.ports.dashboard}`;
        const query = new URLSearchParams({ from: opts.from, to: opts.to ?? new Date().toISOString() });
        if (opts.account) query.set('accountId', opts.account);
        const response = await fetch(`${base}/v1/ingest/reconciliation?${query.toString()}`, {
          headers: { authorization: `Bearer ${opts.key}` },
        });
        const body = (await response.json()) as Report & { message?: unknown };
        if (!response.ok)
          throw new Error(`reconciliation failed (${response.status}): ${JSON.stringify(body.message)}`);
        if (opts.json) console.log(JSON.stringify(body));
        else {
          const t = body.totals;
          console.log(
            `${body.from} → ${body.to}: ${body.cells} account-minutes; Kafka ${t.kafka}, request_logs ${t.stored} ` +
              `(${t.distinct} distinct), rollups ${t.rollup}; ${body.invalidMessages} invalid messages; ` +
              `${body.pending} not yet consumed`,
          );
          if (body.consistent) console.log('consistent: no differences');
          else {
            console.log('account                          minute               kafka   stored  distinct  rollup');
            for (const d of body.differences) {
              console.log(
                `${d.accountId.padEnd(32)} ${d.minute}  ${String(d.kafka).padStart(6)} ${String(d.stored).padStart(8)} ` +
                  `${String(d.distinct).padStart(9)} ${String(d.rollup).padStart(7)}`,
              );
            }
          }
        }
        if (!body.consistent) process.exitCode = 1;
      },
    );
}
