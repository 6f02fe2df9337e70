import { useState } from 'react';
import { api } from '../api';
import { Badge, Card, Empty, ErrorNote, useResource } from '../components/ui';
import { ago, fmt, label } from '../format';
import { go } from '../router';

interface FlagRow {
  id: string;
  kind: string;
  severity: string;
  status: string;
  score: number;
  summary: string;
  firstSeenAt: string;
  lastSeenAt: string;
  account: {
    id: string;
    name: string;
    externalId: string | null;
    allowlisted: boolean;
    plan: { key: string; name: string };
    restrictions: { id: string; mode: string; expiresAt: string }[];
  };
}
interface Counts {
  total: number;
  severity: Record<string, number>;
  kind: Record<string, number>;
  plan: { key: string; name: string; count: number }[];
}

const SEVERITIES = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW'];
const KINDS = ['SUSTAINED_EXCESS', 'LIMIT_PRESSURE', 'ERROR_STORM', 'ENDPOINT_HAMMERING', 'TOKEN_SPREAD'];

export function FlagsPage() {
  const [status, setStatus] = useState('OPEN');
  const [severity, setSeverity] = useState<string[]>([]);
  const [kind, setKind] = useState('');
  const [plan, setPlan] = useState('');
  const [search, setSearch] = useState('');
  const [age, setAge] = useState('');
  const [sort, setSort] = useState('severity');
  const [order, setOrder] = useState<'asc' | 'desc'>('desc');

  const query = new URLSearchParams({ status, sort, order, limit: '100' });
  if (severity.length) query.set('severity', severity.join(','));
  if (kind) query.set('kind', kind);
  if (plan) query.set('plan', plan);
  if (search) query.set('search', search);
  if (age) query.set('olderThanHours', age);
  const qs = query.toString();

  const flags = useResource(() => api.get<{ total: number; flags: FlagRow[] }>(`/api/flags?${qs}`), [qs], 15_000);
  const counts = useResource(() => api.get<Counts>('/api/flags/counts'), [], 15_000);

  const toggleSeverity = (s: string) =>
    setSeverity(severity.includes(s) ? severity.filter((x) => x !== s) : [...severity, s]);
  const sortBy = (key: string) => {
    if (sort === key) setOrder(order === 'desc' ? 'asc' : 'desc');
    else {
      setSort(key);
      setOrder('desc');
    }
  };
  const arrow = (key: string) => (sort === key ? (order === 'desc' ? ' ↓' : ' ↑') : '');

  return (
    <div className="page">
      <header className="page-header">
        <div>
          <h1>Flagged accounts</h1>
          <p className="muted">
            Detections waiting for a decision. Open an account to see its usage against its baseline and act.
          </p>
        </div>
      </header>
      {counts.data && (
        <div className="chips">
          <button className={`chip ${severity.length === 0 ? 'chip-on' : ''}`} onClick={() => setSeverity([])}>
            All open <strong>{counts.data.total}</strong>
          </button>
          {SEVERITIES.map((s) => (
            <button
              key={s}
              className={`chip chip-${s.toLowerCase()} ${severity.includes(s) ? 'chip-on' : ''}`}
              onClick={() => toggleSeverity(s)}
            >
              {label(s)} <strong>{counts.data?.severity[s] ?? 0}</strong>
            </button>
          ))}
          <span className="chip-sep" />
          {Object.entries(counts.data.kind).map(([k, n]) => (
            <button
              key={k}
              className={`chip ${kind === k ? 'chip-on' : ''}`}
              onClick={() => setKind(kind === k ? '' : k)}
            >
              {label(k)} <strong>{n}</strong>
            </button>
          ))}
        </div>
      )}
      <Card>
        <div className="filters">
          <input
            className="search"
            placeholder="Search account name or id…"
            value={search}
            onChange={(e) => setSearch(e.target.value)}
          />
          <select value={status} onChange={(e) => setStatus(e.target.value)} aria-label="status">
            <option value="OPEN">Open</option>
            <option value="RESOLVED">Resolved</option>
            <option value="DISMISSED">Dismissed</option>
          </select>
          <select value={kind} onChange={(e) => setKind(e.target.value)} aria-label="kind">
            <option value="">Any kind</option>
            {KINDS.map((k) => (
              <option key={k} value={k}>
                {label(k)}
              </option>
            ))}
          </select>
          <select value={plan} onChange={(e) => setPlan(e.target.value)} aria-label="plan">
            <option value="">Any plan</option>
            {counts.data?.plan.map((p) => (
              <option key={p.key} value={p.key}>
                {p.name} ({p.count})
              </option>
            ))}
          </select>
          <select value={age} onChange={(e) => setAge(e.target.value)} aria-label="age">
            <option value="">Any age</option>
            <option value="1">Older than 1 hour</option>
            <option value="24">Older than 1 day</option>
            <option value="168">Older than 1 week</option>
          </select>
          <span className="muted filters-total">{flags.data ? `${fmt(flags.data.total)} flags` : ''}</span>
        </div>
        <ErrorNote error={flags.error} />
        {flags.data && flags.data.flags.length === 0 ? (
          <Empty>No flags match these filters.</Empty>
        ) : (
          <table className="table table-hover">
            <thead>
              <tr>
                <th className="sortable" onClick={() => sortBy('severity')}>
                  Severity{arrow('severity')}
                </th>
                <th>Account</th>
                <th>Kind</th>
                <th>Plan</th>
                <th className="sortable num" onClick={() => sortBy('score')}>
                  Score{arrow('score')}
                </th>
                <th className="sortable" onClick={() => sortBy('age')}>
                  Age{arrow('age')}
                </th>
                <th className="sortable" onClick={() => sortBy('lastSeen')}>
                  Last seen{arrow('lastSeen')}
                </th>
                <th>Restriction</th>
              </tr>
            </thead>
            <tbody>
              {flags.data?.flags.map((flag) => (
                <tr key={flag.id} className="clickable" onClick={() => go(`accounts/${flag.account.id}`)}>
                  <td>
                    <Badge value={flag.severity} />
                  </td>
                  <td>
                    <a href={`#/accounts/${flag.account.id}`} className="account-link">
                      {flag.account.name}
                    </a>
                    <div className="muted small">{flag.summary || flag.account.externalId}</div>
                  </td>
                  <td>{label(flag.kind)}</td>
                  <td>{flag.account.plan.name}</td>
                  <td className="num">{flag.score.toFixed(1)}</td>
                  <td>{ago(flag.firstSeenAt)}</td>
                  <td>{ago(flag.lastSeenAt)}</td>
                  <td>
                    {flag.account.restrictions.length > 0 ? (
                      <span>
                        <Badge value={flag.account.restrictions[0]!.mode} />{' '}
                        <span className="muted small">ends {ago(flag.account.restrictions[0]!.expiresAt)}</span>
                      </span>
                    ) : flag.account.allowlisted ? (
                      <Badge value="allowlisted" tone="blue" />
                    ) : (
                      <span className="muted">none</span>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Card>
    </div>
  );
}
