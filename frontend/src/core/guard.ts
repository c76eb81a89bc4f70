// Request-staleness guard: each request takes a token; a response whose token is no longer the
// latest (the selection moved on, or a newer request started) is dropped.

export class Staleness {
  private token = 0;

  /** Starts a request: returns its token and makes every earlier one stale. */
  next(): number {
    return ++this.token;
  }

  /** Makes every request in flight stale without starting one. */
  invalidate(): void {
    this.token++;
  }

  isCurrent(token: number): boolean {
    return token === this.token;
  }
}
