/**
 * A circuit breaker around the limiter's Redis calls. After `failures` consecutive failures it opens: calls are not
 * attempted (the rules' fail modes decide) until `openMs` has passed; then one probe call is let through
 * (half-open), and its success closes the circuit. Time is passed in, so the state machine is pure.
 */
export type CircuitState = 'closed' | 'open' | 'half-open';

export class CircuitBreaker {
  private state: CircuitState = 'closed';
  private consecutiveFailures = 0;
  private openedAt = 0;
  private probing = false;

  constructor(
    private readonly failures: number,
    private readonly openMs: number,
  ) {}

  get current(): CircuitState {
    return this.state;
  }

  /** Whether a call may be attempted now; in half-open state only one probe at a time. */
  allow(nowMs: number): boolean {
    if (this.state === 'closed') return true;
    if (this.state === 'open' && nowMs - this.openedAt >= this.openMs) this.state = 'half-open';
    if (this.state === 'half-open' && !this.probing) {
      this.probing = true;
      return true;
    }
    return false;
  }

  success(): void {
    this.state = 'closed';
    this.consecutiveFailures = 0;
    this.probing = false;
  }

  /** Records a failed call; returns true when this failure opened the circuit. */
  failure(nowMs: number): boolean {
    this.probing = false;
    this.consecutiveFailures++;
    if (this.state === 'half-open' || (this.state === 'closed' && this.consecutiveFailures >= this.failures)) {
      const opened = this.state === 'closed';
      this.state = 'open';
      this.openedAt = nowMs;
      return opened;
    }
    return false;
  }
}
