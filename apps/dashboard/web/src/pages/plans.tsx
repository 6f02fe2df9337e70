import { useState } from 'react';
import { api, isAdmin, type User } from '../api';
import { Badge, Card, ErrorNote, useResource } from '../components/ui';
import { fmt, label } from '../format';

interface Window {
  limit: number;
  seconds: number;
  aligned?: boolean;
}
interface Rule {
  id: string;
  name: string;
  scope: string;
  routes: string[];
  cidrs: string[];
  windows: Window[];
  cost: number;
  concurrency: number | null;
  failMode: string;
  shadow: boolean;
  countLimited: boolean;
  enabled: boolean;
  position: number;
}
interface Plan {
  id: string;
  key: string;
  name: string;
  description: string;
  apiAccess: boolean;
  errorStyle: string;
  limitStatusCode: number;
  priorPerMinute: number;
  version: number;
  updatedAt: string;
  rules: Rule[];
  _count: { accounts: number };
}

function duration(seconds: number): string {
  if (seconds % 86_400 === 0) return `${seconds / 86_400} d`;
  if (seconds % 3600 === 0) return `${seconds / 3600} h`;
  if (seconds % 60 === 0) return `${seconds / 60} min`;
  return `${seconds} s`;
}

const blankRule = (position: number): Rule => ({
  id: '',
  name: '',
  scope: 'TOKEN',
  routes: [],
  cidrs: [],
  windows: [{ limit: 60, seconds: 60 }],
  cost: 1,
  concurrency: null,
  failMode: 'OPEN',
  shadow: false,
  countLimited: false,
  enabled: true,
  position,
});

function RuleEditor({ plan, rule, onDone }: { plan: Plan; rule: Rule; onDone: () => Promise<void> }) {
  const [draft, setDraft] = useState<Rule>(rule);
  const [routes, setRoutes] = useState(rule.routes.join('\n'));
  const [cidrs, setCidrs] = useState(rule.cidrs.join('\n'));
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const lines = (text: string) =>
    text
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean);
  const setWindow = (i: number, patch: Partial<Window>) =>
    setDraft({ ...draft, windows: draft.windows.map((w, j) => (j === i ? { ...w, ...patch } : w)) });
  const save = async () => {
    setBusy(true);
    setError(undefined);
    const body = {
      expectedVersion: plan.version,
      name: draft.name,
      scope: draft.scope,
      routes: lines(routes),
      cidrs: lines(cidrs),
      windows: draft.windows,
      cost: draft.cost,
      concurrency: draft.concurrency,
      failMode: draft.failMode,
      shadow: draft.shadow,
      countLimited: draft.countLimited,
      enabled: draft.enabled,
      position: draft.position,
    };
    try {
      if (rule.id) await api.put(`/api/plans/${plan.id}/rules/${rule.id}`, body);
      else await api.post(`/api/plans/${plan.id}/rules`, body);
      await onDone();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="rule-editor">
      <div className="form-grid">
        <label className="field">
          <span>Name</span>
          <input value={draft.name} onChange={(e) => setDraft({ ...draft, name: e.target.value })} />
        </label>
        <label className="field">
          <span>Key</span>
          <select value={draft.scope} onChange={(e) => setDraft({ ...draft, scope: e.target.value })}>
            {['TOKEN', 'ACCOUNT', 'IP', 'ROUTE', 'PLAN'].map((s) => (
              <option key={s} value={s}>
                per {s.toLowerCase()}
              </option>
            ))}
          </select>
        </label>
        <label className="field">
          <span>Cost per request</span>
          <input
            type="number"
            min={1}
            value={draft.cost}
            onChange={(e) => setDraft({ ...draft, cost: Number(e.target.value) })}
          />
        </label>
        <label className="field">
          <span>Concurrency (blank: none)</span>
          <input
            type="number"
            min={1}
            value={draft.concurrency ?? ''}
            onChange={(e) => setDraft({ ...draft, concurrency: e.target.value === '' ? null : Number(e.target.value) })}
          />
        </label>
        <label className="field">
          <span>When Redis is down</span>
          <select value={draft.failMode} onChange={(e) => setDraft({ ...draft, failMode: e.target.value })}>
            <option value="OPEN">fail open</option>
            <option value="CLOSED">fail closed</option>
            <option value="LOCAL">local limiter</option>
          </select>
        </label>
        <label className="field">
          <span>Position</span>
          <input
            type="number"
            min={0}
            value={draft.position}
            onChange={(e) => setDraft({ ...draft, position: Number(e.target.value) })}
          />
        </label>
        <label className="field">
          <span>Routes (one per line, empty: all)</span>
          <textarea
            rows={3}
            value={routes}
            placeholder="POST /v1/licenses/validate"
            onChange={(e) => setRoutes(e.target.value)}
          />
        </label>
        <label className="field">
          <span>Client networks (one per line, empty: all)</span>
          <textarea rows={3} value={cidrs} placeholder="10.0.0.0/8" onChange={(e) => setCidrs(e.target.value)} />
        </label>
      </div>
      <div className="windows">
        <div className="history-title">Windows (all must pass)</div>
        {draft.windows.map((w, i) => (
          <div key={i} className="window-row">
            <input
              type="number"
              min={1}
              value={w.limit}
              aria-label="limit"
              onChange={(e) => setWindow(i, { limit: Number(e.target.value) })}
            />
            <span>requests per</span>
            <input
              type="number"
              min={1}
              value={w.seconds}
              aria-label="seconds"
              onChange={(e) => setWindow(i, { seconds: Number(e.target.value) })}
            />
            <span>seconds ({duration(w.seconds || 1)})</span>
            <label className="check">
              <input
                type="checkbox"
                checked={w.aligned ?? false}
                onChange={(e) => setWindow(i, { aligned: e.target.checked })}
              />{' '}
              clock-aligned
            </label>
            <button
              className="btn btn-sm"
              disabled={draft.windows.length === 1}
              onClick={() => setDraft({ ...draft, windows: draft.windows.filter((_, j) => j !== i) })}
            >
              Remove
            </button>
          </div>
        ))}
        <button
          className="btn btn-sm"
          onClick={() => setDraft({ ...draft, windows: [...draft.windows, { limit: 1000, seconds: 3600 }] })}
        >
          + Window
        </button>
      </div>
      <div className="checks">
        <label className="check">
          <input
            type="checkbox"
            checked={draft.enabled}
            onChange={(e) => setDraft({ ...draft, enabled: e.target.checked })}
          />{' '}
          enabled
        </label>
        <label className="check">
          <input
            type="checkbox"
            checked={draft.shadow}
            onChange={(e) => setDraft({ ...draft, shadow: e.target.checked })}
          />{' '}
          shadow (record, never block)
        </label>
        <label className="check">
          <input
            type="checkbox"
            checked={draft.countLimited}
            onChange={(e) => setDraft({ ...draft, countLimited: e.target.checked })}
          />{' '}
          limited requests count
        </label>
      </div>
      <ErrorNote error={error} />
      <div className="modal-actions">
        <button className="btn" onClick={() => void onDone()}>
          Cancel
        </button>
        <button className="btn btn-primary" disabled={busy} onClick={() => void save()}>
          {busy ? 'Saving…' : 'Save rule'}
        </button>
      </div>
    </div>
  );
}

function PlanCard({ plan, admin, reload }: { plan: Plan; admin: boolean; reload: () => Promise<void> }) {
  const [editing, setEditing] = useState<Rule | null>(null);
  const [error, setError] = useState<string>();
  const done = async () => {
    setEditing(null);
    await reload();
  };
  const remove = async (rule: Rule) => {
    if (!window.confirm(`Delete rule ${rule.name}?`)) return;
    try {
      await api.delete(`/api/plans/${plan.id}/rules/${rule.id}?expectedVersion=${plan.version}`);
      await reload();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };
  const patch = async (body: Record<string, unknown>) => {
    try {
      await api.patch(`/api/plans/${plan.id}`, { expectedVersion: plan.version, ...body });
      await reload();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };
  return (
    <Card
      title={
        <span>
          {plan.name}{' '}
          <span className="muted small mono">
            {plan.key} · v{plan.version}
          </span>
        </span>
      }
      actions={
        admin &&
        !editing && (
          <button className="btn btn-sm" onClick={() => setEditing(blankRule(plan.rules.length))}>
            + Rule
          </button>
        )
      }
    >
      <p className="muted">{plan.description}</p>
      <div className="plan-facts">
        <span>{fmt(plan._count.accounts)} accounts</span>
        <label className="inline-field">
          denied with
          <select
            value={plan.limitStatusCode}
            disabled={!admin}
            onChange={(e) => void patch({ limitStatusCode: Number(e.target.value) })}
          >
            <option value={429}>429</option>
            <option value={503}>503</option>
          </select>
        </label>
        <label className="inline-field">
          error body
          <select
            value={plan.errorStyle}
            disabled={!admin}
            onChange={(e) => void patch({ errorStyle: e.target.value })}
          >
            <option value="NESTJS">NestJS</option>
            <option value="DETAIL">detail</option>
            <option value="PROBLEM_JSON">problem+json</option>
          </select>
        </label>
        <span>new-account prior {fmt(plan.priorPerMinute)}/min</span>
        {!plan.apiAccess && <Badge value="no API access" tone="gray" />}
      </div>
      <ErrorNote error={error} />
      <table className="table">
        <thead>
          <tr>
            <th>Rule</th>
            <th>Key</th>
            <th>Windows</th>
            <th>Routes</th>
            <th>Cost</th>
            <th>Flags</th>
            {admin && <th />}
          </tr>
        </thead>
        <tbody>
          {plan.rules.map((rule) => (
            <tr key={rule.id} className={rule.enabled ? '' : 'disabled'}>
              <td className="mono">{rule.name}</td>
              <td>per {rule.scope.toLowerCase()}</td>
              <td>
                {rule.windows.map((w, i) => (
                  <div key={i}>
                    {fmt(w.limit)} / {duration(w.seconds)}
                    {w.aligned ? ' (aligned)' : ''}
                  </div>
                ))}
                {rule.concurrency ? <div className="muted small">{rule.concurrency} in flight</div> : null}
              </td>
              <td className="small">
                {rule.routes.length ? rule.routes.join(', ') : <span className="muted">all</span>}
              </td>
              <td className="num">{rule.cost}</td>
              <td>
                {!rule.enabled && <Badge value="disabled" tone="gray" />}{' '}
                {rule.shadow && <Badge value="shadow" tone="blue" />}{' '}
                <span className="muted small">fail {label(rule.failMode)}</span>
              </td>
              {admin && (
                <td className="nowrap">
                  <button className="btn btn-sm" onClick={() => setEditing(rule)}>
                    Edit
                  </button>{' '}
                  <button className="btn btn-sm btn-ghost" onClick={() => void remove(rule)}>
                    Delete
                  </button>
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
      {editing && <RuleEditor plan={plan} rule={editing} onDone={done} />}
    </Card>
  );
}

export function PlansPage({ user }: { user: User }) {
  const plans = useResource(() => api.get<Plan[]>('/api/plans'), []);
  return (
    <div className="page">
      <header className="page-header">
        <div>
          <h1>Plans &amp; limit rules</h1>
          <p className="muted">
            Changes bump the plan version; edges reload the plan within seconds, no restart.
            {!isAdmin(user) && ' Only admins can edit.'}
          </p>
        </div>
      </header>
      <ErrorNote error={plans.error} />
      {plans.data?.map((plan) => (
        <PlanCard key={plan.id} plan={plan} admin={isAdmin(user)} reload={plans.reload} />
      ))}
    </div>
  );
}
