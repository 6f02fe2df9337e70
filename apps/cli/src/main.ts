import 'reflect-metadata';
import { Command } from 'commander';
import { loadConfig } from '@usageguard/config';
import { migrate } from '@usageguard/database';
import { registerBacktestCommand } from './commands/backtest.command';
import { registerDemoUpstream } from './commands/demo-upstream.command';
import { registerReconcileCommand } from './commands/reconcile.command';
import { registerReplayCommand } from './commands/replay.command';
import { registerSimulate } from './commands/simulate.command';
import { registerUsersCommand } from './commands/users.command';

/** `usageguard <command>`: operational commands (replay, reconcile, backtest, simulate, users). */
const program = new Command('usageguard').description('UsageGuard operational commands');

program
  .command('migrate')
  .description('apply pending Postgres migrations')
  .action(async () => {
    const config = loadConfig();
    const result = await migrate(config.database.url);
    console.log(`applied ${result.applied.length}, already applied ${result.alreadyApplied.length}`);
  });

registerBacktestCommand(program);
registerDemoUpstream(program);
registerReplayCommand(program);
registerReconcileCommand(program);
registerSimulate(program);
registerUsersCommand(program);

program.parseAsync(process.argv).catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
