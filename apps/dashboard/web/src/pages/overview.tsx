import { api } from '../api';
import { Sparkline } from '../components/usage-chart';
import { Card, ErrorNote, Stat, useResource } from '../components/ui';
import { ago, fmt, pct } from '../format';

interface Overview {
  requestsPerMinute: number;
  limitedShare: number;
  series: { t: string; requests: number; limited: number }[];
  ingest: { lagMsP50: number | null; lastEventAt: string | null; eventsLast10m: number };
  openFlags: number;
  activeRestrictions: number;
  awaitingApproval: number;
  pendingBursts: number;
  heldEmails: number;
  at: string;
}

const plural = (n: number, noun: string) => `${fmt(n)} ${noun}${n === 1 ? '' : 's'}`;

function lagText(ms: number | null): string {
  if (ms === null) return 'no events';
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

export function OverviewPage() {
  const { data, error } = useResource(() => api.get<Overview>('/api/overview'), [], 5000);
  return (
    <div className="page">
      <header className="page-header">
        <div>
          <h1>Overview</h1>
          <p className="muted">
            Live traffic across all customers · refreshes every 5 s{data && ` · ${data.at.slice(11, 19)} UTC`}
          </p>
        </div>
      </header>
      <ErrorNote error={error} />
      {data && (
        <>
          <div className="stats">
            <Stat
              label="Requests / min"
              value={fmt(data.requestsPerMinute)}
              hint="average of the last 5 full minutes"
            />
            <Stat
              label="Share limited"
              value={pct(data.limitedShare)}
              hint="limited or restricted at the edge"
              tone={data.limitedShare > 0.05 ? 'warn' : undefined}
            />
            <Stat
              label="Open flags"
              value={<a href="#/flags">{fmt(data.openFlags)}</a>}
              hint={
                `${plural(data.activeRestrictions, 'active restriction')} · ${fmt(data.awaitingApproval)} awaiting ` +
                `approval · ${plural(data.pendingBursts, 'burst notice')} pending`
              }
              tone={data.openFlags > 0 ? 'alert' : undefined}
            />
            <Stat
              label="Held emails"
              value={fmt(data.heldEmails)}
              hint="not confirmed sent: check the mail log, then resend from the account page"
              tone={data.heldEmails > 0 ? 'warn' : undefined}
            />
            <Stat
              label="Ingest lag"
              value={lagText(data.ingest.lagMsP50)}
              hint={`median, last 10 min · last event ${ago(data.ingest.lastEventAt)}`}
              tone={data.ingest.lagMsP50 !== null && data.ingest.lagMsP50 > 30_000 ? 'warn' : undefined}
            />
          </div>
          <Card title="Requests per minute, last hour">
            <Sparkline points={data.series} height={260} />
          </Card>
        </>
      )}
    </div>
  );
}
