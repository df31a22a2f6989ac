import { Counter, Gauge, Histogram, Registry } from "prom-client";

/**
 * The facilitator's metrics, exposed on GET /metrics in Prometheus' text format by prom-client. Each facilitator
 * has its own registry, so that several in one process (tests, a bench) never share counters.
 */
export class FacilitatorMetrics {
  readonly registry = new Registry();
  private readonly verifyTotal = new Counter({
    name: "netd_facilitator_verify_total",
    help: "Verifications by result (valid, or the invalid reason).",
    labelNames: ["result"],
    registers: [this.registry],
  });
  private readonly settleTotal = new Counter({
    name: "netd_facilitator_settle_total",
    help: "Settlements by result (success, or the error reason).",
    labelNames: ["result"],
    registers: [this.registry],
  });
  private readonly verifySeconds = new Histogram({
    name: "netd_facilitator_verify_seconds",
    help: "Time to verify a payment.",
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  private readonly settleSeconds = new Histogram({
    name: "netd_facilitator_settle_seconds",
    help: "Time to settle a payment, its receipt included.",
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });
  private readonly settleInFlight = new Gauge({ name: "netd_facilitator_settle_in_flight", help: "Settlements being processed.", registers: [this.registry] });
  private readonly duplicates = new Counter({
    name: "netd_facilitator_duplicate_settles_total",
    help: "Settle requests for a payment already settled or settling (answered without moving money).",
    registers: [this.registry],
  });
  private readonly relayerBalance = new Gauge({
    name: "netd_facilitator_relayer_balance_wei",
    help: "The relayer's balance for gas, per network (read when /metrics is scraped).",
    labelNames: ["network", "relayer"],
    registers: [this.registry],
  });

  verified(result: string, seconds: number): void {
    this.verifyTotal.inc({ result });
    this.verifySeconds.observe(seconds);
  }

  /** Call when a settlement starts; call the function returned with its result when it ends. */
  settling(): (result: string) => void {
    this.settleInFlight.inc();
    const end = this.settleSeconds.startTimer();
    return (result) => {
      end();
      this.settleInFlight.dec();
      this.settleTotal.inc({ result });
    };
  }

  duplicateSettle(): void {
    this.duplicates.inc();
  }

  /** How many settlements ended with `result` (e.g. "success"), and how many duplicates were answered. */
  async settleCount(result: string): Promise<number> {
    return (await this.settleTotal.get()).values.find((v) => v.labels.result === result)?.value ?? 0;
  }
  async duplicateSettles(): Promise<number> {
    return (await this.duplicates.get()).values[0]?.value ?? 0;
  }

  /** The Prometheus text exposition, with the relayers' balances as they are now. */
  async render(relayers: { network: string; address: string; balance: bigint }[] = []): Promise<string> {
    this.relayerBalance.reset();
    // A balance in wei fits a float64 only approximately above 2^53 (~0.009 ETH): fine for alerting on low balances.
    for (const r of relayers) this.relayerBalance.set({ network: r.network, relayer: r.address }, Number(r.balance));
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
