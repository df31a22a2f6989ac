import type { Signer } from "ethers";

/** The cast of the demo, each with an ethers signer (in-process Hardhat accounts in `npm run demo`). */
export interface Cast {
  issuer: Signer;
  minter: Signer;
  agent: Signer;
  merchant: Signer;
  creators: [Signer, Signer, Signer];
  /** Signs the reserve attestations (the auditor who checks them needs no key). */
  accountant: Signer;
  /** An account that relays transactions for others (pays gas, moves none of its own money). */
  relayer: Signer;
}

/** How the demo prints: chapter titles, steps, and facts. */
export class Story {
  private chapter = 0;
  constructor(private readonly write: (line: string) => void = (l) => process.stdout.write(l + "\n")) {}

  title(text: string): void {
    this.chapter++;
    this.write("");
    this.write(`== ${this.chapter}. ${text} ==`);
  }

  step(text: string): void {
    this.write(`  - ${text}`);
  }

  fact(label: string, value: string): void {
    this.write(`      ${label.padEnd(22)} ${value}`);
  }
}
