import { type ReactNode, useCallback, useEffect, useRef, useState } from 'react';
import { label } from '../format';

/** Loads a resource and reloads it on demand (and on an interval for live pages). */
export function useResource<T>(load: () => Promise<T>, deps: unknown[], refreshMs?: number) {
  const [data, setData] = useState<T | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [loading, setLoading] = useState(true);
  const loader = useRef(load);
  loader.current = load;
  const reload = useCallback(async () => {
    setLoading(true);
    try {
      setData(await loader.current());
      setError(undefined);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setLoading(false);
    }
  }, []);
  useEffect(() => {
    void reload();
    if (!refreshMs) return undefined;
    const timer = setInterval(() => void reload(), refreshMs);
    return () => clearInterval(timer);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps);
  return { data, error, loading, reload };
}

const TONES: Record<string, string> = {
  CRITICAL: 'red',
  HIGH: 'orange',
  MEDIUM: 'yellow',
  LOW: 'gray',
  OPEN: 'orange',
  ACTIVE: 'red',
  PENDING: 'yellow',
  PENDING_APPROVAL: 'yellow',
  APPROVED: 'green',
  SENT: 'green',
  RESOLVED: 'green',
  LIFTED: 'green',
  EXPIRED: 'gray',
  DISMISSED: 'gray',
  REJECTED: 'gray',
  CANCELLED: 'gray',
  FAILED: 'red',
  BLOCK: 'red',
  THROTTLE: 'orange',
  NOTIFY: 'blue',
  VIEWER: 'gray',
  OPERATOR: 'blue',
  ADMIN: 'purple',
};

export function Badge({ value, tone }: { value: string; tone?: string }) {
  return <span className={`badge badge-${tone ?? TONES[value] ?? 'gray'}`}>{label(value)}</span>;
}

export function Card({
  title,
  actions,
  children,
  className,
}: {
  title?: ReactNode;
  actions?: ReactNode;
  children: ReactNode;
  className?: string;
}) {
  return (
    <section className={`card ${className ?? ''}`}>
      {(title || actions) && (
        <header className="card-header">
          <h2>{title}</h2>
          <div className="card-actions">{actions}</div>
        </header>
      )}
      <div className="card-body">{children}</div>
    </section>
  );
}

export function Stat({
  label: name,
  value,
  hint,
  tone,
}: {
  label: string;
  value: ReactNode;
  hint?: ReactNode;
  tone?: string;
}) {
  return (
    <div className={`stat ${tone ? `stat-${tone}` : ''}`}>
      <div className="stat-label">{name}</div>
      <div className="stat-value">{value}</div>
      {hint && <div className="stat-hint">{hint}</div>}
    </div>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <div className="empty">{children}</div>;
}

export function ErrorNote({ error }: { error?: string }) {
  return error ? <div className="error-note">{error}</div> : null;
}

export interface DialogField {
  name: string;
  label: string;
  type?: 'text' | 'textarea' | 'number' | 'select' | 'datetime-local';
  options?: { value: string; label: string }[];
  initial?: string;
  required?: boolean;
  min?: number;
  max?: number;
  step?: number;
  hint?: string;
}

/** A small form in a modal: the reason (and other inputs) an action needs, submitted with one click. */
export function ActionDialog({
  title,
  description,
  fields,
  confirm,
  tone,
  onSubmit,
  onClose,
}: {
  title: string;
  description?: ReactNode;
  fields: DialogField[];
  confirm: string;
  tone?: 'danger' | 'primary';
  onSubmit: (values: Record<string, string>) => Promise<void>;
  onClose: () => void;
}) {
  const [values, setValues] = useState<Record<string, string>>(
    Object.fromEntries(fields.map((f) => [f.name, f.initial ?? ''])),
  );
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const submit = async (event: React.FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await onSubmit(values);
      onClose();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="modal-backdrop" role="presentation" onClick={onClose}>
      <form className="modal" role="dialog" aria-label={title} onClick={(e) => e.stopPropagation()} onSubmit={submit}>
        <h3>{title}</h3>
        {description && <p className="muted">{description}</p>}
        {fields.map((field) => (
          <label key={field.name} className="field">
            <span>{field.label}</span>
            {field.type === 'textarea' ? (
              <textarea
                name={field.name}
                value={values[field.name]}
                required={field.required}
                minLength={field.required ? 3 : undefined}
                rows={3}
                onChange={(e) => setValues({ ...values, [field.name]: e.target.value })}
              />
            ) : field.type === 'select' ? (
              <select
                name={field.name}
                value={values[field.name]}
                onChange={(e) => setValues({ ...values, [field.name]: e.target.value })}
              >
                {field.options?.map((o) => (
                  <option key={o.value} value={o.value}>
                    {o.label}
                  </option>
                ))}
              </select>
            ) : (
              <input
                name={field.name}
                type={field.type ?? 'text'}
                value={values[field.name]}
                required={field.required}
                min={field.min}
                max={field.max}
                step={field.step}
                onChange={(e) => setValues({ ...values, [field.name]: e.target.value })}
              />
            )}
            {field.hint && <small className="muted">{field.hint}</small>}
          </label>
        ))}
        <ErrorNote error={error} />
        <div className="modal-actions">
          <button type="button" className="btn" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className={`btn btn-${tone ?? 'primary'}`} disabled={busy}>
            {busy ? 'Working…' : confirm}
          </button>
        </div>
      </form>
    </div>
  );
}

/** Renders a flag's evidence (free-form JSON from the analyzer) as readable key/value rows and small tables. */
export function Evidence({ value }: { value: unknown }) {
  if (value === null || value === undefined) return <span className="muted">—</span>;
  if (typeof value === 'number')
    return <span className="num">{Number.isInteger(value) ? value.toLocaleString('en-US') : value.toFixed(2)}</span>;
  if (typeof value !== 'object') return <span>{String(value)}</span>;
  if (Array.isArray(value)) {
    if (value.length === 0) return <span className="muted">none</span>;
    if (value.every((v) => v && typeof v === 'object' && !Array.isArray(v))) {
      const columns = [...new Set(value.flatMap((v) => Object.keys(v as object)))].slice(0, 6);
      if (value.length > 12 && columns.length <= 3) {
        return <span className="muted">{value.length} points</span>;
      }
      return (
        <table className="table table-compact">
          <thead>
            <tr>
              {columns.map((c) => (
                <th key={c}>{label(c)}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            {value.slice(0, 10).map((row, i) => (
              <tr key={i}>
                {columns.map((c) => (
                  <td key={c}>
                    <Evidence value={(row as Record<string, unknown>)[c]} />
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      );
    }
    if (value.length > 12) return <span className="muted">{value.length} values</span>;
    return <span>{value.map((v) => (typeof v === 'number' ? v.toLocaleString('en-US') : String(v))).join(', ')}</span>;
  }
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 0) return <span className="muted">no evidence recorded</span>;
  return (
    <dl className="evidence">
      {entries.map(([key, v]) => (
        <div key={key} className="evidence-row">
          <dt>{label(key.replace(/([a-z])([A-Z])/g, '$1_$2'))}</dt>
          <dd>
            <Evidence value={v} />
          </dd>
        </div>
      ))}
    </dl>
  );
}
