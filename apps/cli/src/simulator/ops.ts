/**
 * The two sides of a planned burst, through the public APIs: the customer announces it with its own API token
 * (POST /v1/burst-notices), and an ops user approves it in the dashboard API (session cookie + CSRF header).
 */
export interface AnnouncedBurst {
  id: string;
  late: boolean;
  status: string;
}

export async function announceBurst(
  controlPlaneUrl: string,
  token: string,
  burst: { startsAt: Date; minutes: number; perMinute: number },
): Promise<AnnouncedBurst> {
  const response = await fetch(`${controlPlaneUrl}/v1/burst-notices`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      startsAt: burst.startsAt.toISOString(),
      durationMinutes: burst.minutes,
      timezone: 'Europe/Berlin',
      expectedPerMinute: burst.perMinute,
      endpoints: ['POST /v1/imports', 'GET /v1/things/:id'],
      context: 'Quarter-end import of the customer catalogue (demo)',
    }),
  });
  if (response.status !== 201 && response.status !== 200) {
    throw new Error(`burst notice answered ${response.status}: ${(await response.text()).slice(0, 300)}`);
  }
  return (await response.json()) as AnnouncedBurst;
}

/** Signs in as an ops user and approves the notice; false when the dashboard refuses (wrong password, role). */
export async function approveBurstNotice(
  controlPlaneUrl: string,
  email: string,
  password: string,
  noticeId: string,
): Promise<boolean> {
  const login = await fetch(`${controlPlaneUrl}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password }),
  });
  if (login.status !== 200) return false;
  const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0];
  const { csrfToken } = (await login.json()) as { csrfToken: string };
  const review = await fetch(`${controlPlaneUrl}/api/burst-notices/${noticeId}/review`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', cookie, 'x-csrf-token': csrfToken },
    body: JSON.stringify({ decision: 'approve', note: 'Capacity confirmed for the quarter-end import (demo)' }),
  });
  return review.status === 200;
}
