import { type Command } from 'commander';
import { readFileSync } from 'node:fs';
import { Agent, fetch as fetchWithAgent } from 'undici';
import { loadConfig } from '@usageguard/config';
import type { BacktestReport } from '@usageguard/contracts';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').trim();
}

/**
 * `usageguard backtest --rules rules.json --from … --to … --email ops@…`: replays stored history through the
 * analyzer with a changed rule set and lists the flags that would appear or disappear. The analyzer and embedded
 * ClickHouse (chDB) live in the control plane, so this signs in like the dashboard does (password on stdin) and asks
 * that process. Exit code 0 either way; the report is the output.
 */
export function registerBacktestCommand(program: Command): void {
  program
    .command('backtest')
    .description('replay stored history with a changed rule set and list the flags that would appear or disappear')
    .requiredOption('--rules <file>', 'detection config JSON to try (partial; defaults fill the rest)')
    .requiredOption('--from <iso>', 'start of the replayed history (ISO-8601)')
    .option('--to <iso>', 'end of the replayed history (ISO-8601, default now)')
    .option('--step <minutes>', 'minutes between simulated cycles', '5')
    .requiredOption('--email <email>', 'an ops user (operator or admin); the password is read from stdin')
    .option('--url <url>', 'the control plane (default: the one on this machine)')
    .option('--json', 'print the report as JSON')
    .action(
      async (opts: {
        rules: string;
        from: string;
        to?: string;
        step: string;
        email: string;
        url?: string;
        json?: boolean;
      }) => {
        const config = loadConfig();
        const base = opts.url ?? `http://${config.http.host}:${config.http.ports.dashboard}`;
        const rules = JSON.parse(readFileSync(opts.rules, 'utf8')) as unknown;
        const password = await readStdin();
        const login = await fetch(`${base}/api/auth/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ email: opts.email, password }),
        });
        if (!login.ok) throw new Error(`sign-in failed: ${login.status} ${await login.text()}`);
        const { csrfToken } = (await login.json()) as { csrfToken: string };
        const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0];
        // A long replay answers after minutes: no client-side timeout.
        const response = await fetchWithAgent(`${base}/api/analyzer/backtest`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', cookie, 'x-csrf-token': csrfToken },
          body: JSON.stringify({
            from: opts.from,
            to: opts.to ?? new Date().toISOString(),
            stepMinutes: Number(opts.step),
            rules,
          }),
          dispatcher: new Agent({ headersTimeout: 0, bodyTimeout: 0 }),
        });
        if (!response.ok) throw new Error(`backtest failed: ${response.status} ${await response.text()}`);
        const report = (await response.json()) as BacktestReport;
        if (opts.json) {
          console.log(JSON.stringify(report, null, 2));
          return;
        }
        console.log(
          `${report.cycles} cycles over ${report.accounts} accounts, ${report.from} → ${report.to}: ` +
            `${report.current} flags with the current rules, ${report.candidate} with the candidate`,
        );
        for (const [label, list] of [
          ['would appear', report.appear],
          ['would disappear', report.disappear],
        ] as const) {
          console.log(`\n${label} (${list.length}):`);
          for (const f of list)
            console.log(`  ${f.firstSeenAt}  ${f.kind.padEnd(18)} ${f.severity.padEnd(8)} ${f.accountId}`);
        }
      },
    );
}
