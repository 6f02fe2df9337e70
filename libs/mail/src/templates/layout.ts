/**
 * The shared frame of every customer email: table layout and inline styles (what mail clients render reliably),
 * a hidden preheader, and a plain-text twin built from the same content.
 */
export function escapeHtml(value: string): string {
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** "Tuesday, 24 November 2026, 14:05 UTC": unambiguous for customers in any time zone. */
export function formatInstant(iso: string): string {
  const date = new Date(iso);
  const day = new Intl.DateTimeFormat('en-GB', {
    weekday: 'long',
    day: 'numeric',
    month: 'long',
    year: 'numeric',
    timeZone: 'UTC',
  }).format(date);
  const time = new Intl.DateTimeFormat('en-GB', {
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
    timeZone: 'UTC',
  }).format(date);
  return `${day}, ${time} UTC`;
}

export function formatDuration(fromIso: string, toIso: string): string {
  const minutes = Math.max(1, Math.round((new Date(toIso).getTime() - new Date(fromIso).getTime()) / 60_000));
  if (minutes < 120) return `${minutes} minute${minutes === 1 ? '' : 's'}`;
  const hours = Math.round(minutes / 60);
  if (hours < 48) return `${hours} hours`;
  return `${Math.round(hours / 24)} days`;
}

/** A block of the email, rendered to both HTML and text. */
export type Block =
  | { kind: 'paragraph'; text: string }
  | { kind: 'facts'; rows: [string, string][] }
  | { kind: 'list'; title: string; items: string[] }
  | { kind: 'callout'; text: string };

export interface Email {
  subject: string;
  html: string;
  text: string;
}

const FONT = "-apple-system, BlinkMacSystemFont, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif";

export function renderEmail(input: { subject: string; preheader: string; heading: string; blocks: Block[] }): Email {
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light">
<title>${escapeHtml(input.subject)}</title>
</head>
<body style="margin:0;padding:0;background:#f3f4f6;">
<div style="display:none;max-height:0;overflow:hidden;opacity:0;">${escapeHtml(input.preheader)}</div>
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="background:#f3f4f6;">
<tr><td align="center" style="padding:24px 12px;">
<table role="presentation" width="600" cellpadding="0" cellspacing="0" style="max-width:600px;width:100%;background:#ffffff;border-radius:8px;font-family:${FONT};color:#111827;">
<tr><td style="padding:28px 32px 8px 32px;">
<h1 style="margin:0;font-size:20px;line-height:28px;font-weight:600;">${escapeHtml(input.heading)}</h1>
</td></tr>
${input.blocks.map(blockHtml).join('\n')}
<tr><td style="padding:16px 32px 28px 32px;font-size:12px;line-height:18px;color:#6b7280;">
You receive this email because you are a notification contact of this API account.
</td></tr>
</table>
</td></tr>
</table>
</body>
</html>
`;
  const text = [input.heading, '='.repeat(Math.min(input.heading.length, 72)), '', ...input.blocks.map(blockText)]
    .join('\n')
    .concat('\n--\nYou receive this email because you are a notification contact of this API account.\n');
  return { subject: input.subject, html, text };
}

function blockHtml(block: Block): string {
  const cell = (inner: string) =>
    `<tr><td style="padding:8px 32px;font-size:15px;line-height:22px;">${inner}</td></tr>`;
  switch (block.kind) {
    case 'paragraph':
      return cell(`<p style="margin:0;">${escapeHtml(block.text)}</p>`);
    case 'callout':
      return cell(
        `<div style="padding:12px 16px;background:#fef3c7;border-left:4px solid #d97706;border-radius:4px;">${escapeHtml(block.text)}</div>`,
      );
    case 'facts':
      return cell(
        `<table role="presentation" cellpadding="0" cellspacing="0" style="width:100%;border-collapse:collapse;">${block.rows
          .map(
            ([label, value]) =>
              `<tr><td style="padding:6px 12px 6px 0;color:#6b7280;white-space:nowrap;vertical-align:top;">${escapeHtml(label)}</td><td style="padding:6px 0;">${escapeHtml(value)}</td></tr>`,
          )
          .join('')}</table>`,
      );
    case 'list':
      return cell(
        `<p style="margin:0 0 6px 0;font-weight:600;">${escapeHtml(block.title)}</p><ul style="margin:0;padding-left:20px;">${block.items
          .map((item) => `<li style="margin:2px 0;">${escapeHtml(item)}</li>`)
          .join('')}</ul>`,
      );
  }
}

function blockText(block: Block): string {
  switch (block.kind) {
    case 'paragraph':
      return `${block.text}\n`;
    case 'callout':
      return `> ${block.text}\n`;
    case 'facts': {
      const width = Math.max(...block.rows.map(([label]) => label.length));
      return `${block.rows.map(([label, value]) => `${`${label}:`.padEnd(width + 2)}${value}`).join('\n')}\n`;
    }
    case 'list':
      return `${block.title}\n${block.items.map((item) => `  - ${item}`).join('\n')}\n`;
  }
}
