import { expect } from "chai";
import { readFileSync } from "node:fs";
import { ethers } from "hardhat";
import { reset } from "@nomicfoundation/hardhat-network-helpers";
import { runDemo } from "../../src/demo";

describe("the demo (npm run demo)", function () {
  it("tells the whole story on the in-process network and ends with balances that add up", async function () {
    // A fresh network, as `npm run demo` has: earlier suites moved this one's clock days ahead, and x402 payments are
    // signed against the wall clock, as real agents sign them.
    await reset();
    const [issuer, minter, agent, merchant, creator1, creator2, creator3, accountant, relayer] = await ethers.getSigners();
    const lines: string[] = [];
    await runDemo({ issuer, minter, agent, merchant, creators: [creator1, creator2, creator3], accountant, relayer }, (l) => lines.push(l));
    const text = lines.join("\n");
    expect(text).to.match(/== 1\. The issuer launches NET Dollar ==/);
    expect(text).to.match(/minting \$2,000,000 is refused before anything is sent: "minter 0x7099…79C8 has an allowance of/);
    expect(text).to.match(/held in escrow\s+30\.00 NETD/);
    expect(text).to.match(/creator 1\s+15\.00 NETD\n\s+creator 2\s+9\.00 NETD\n\s+creator 3\s+6\.00 NETD/);
    expect(text).to.match(
      /minting \$1 more is refused: "minting would take the supply to 100\.50 NETD, above the 100\.00 NETD the attested reserves of \$100\.00 allow"/,
    );
    expect(text).to.match(/netd attest check: BACKED\n\s+reserves\s+\$100\.00\n\s+outstanding\s+99\.50 NETD\n\s+collateralization\s+100\.5025%/);
    // Two chains: one attestation allocates the reserves to both; the check and the page span them.
    expect(text).to.match(
      /netd attest check, across both chains: BACKED\n\s+chain 31337\s+100\.00 NETD outstanding, \$100\.00 allocated\n\s+chain 31338\s+40\.00 NETD outstanding, \$50\.00 allocated\n\s+collateralization\s+107\.1428%/,
    );
    const page = /the transparency page, built from the two chains and the signed attestation alone \(2 attestation rounds charted\): open (\S+)/.exec(text);
    expect(page, text).to.not.equal(null);
    expect(readFileSync(page![1], "utf8")).to.match(/<span class="verdict backed" id="verdict">BACKED<\/span>/);
    expect(text).to.match(/without payment: HTTP 402, PAYMENT-REQUIRED asks 0\.001 NETD \(1000 base units\) to 0x90F7…b906, scheme exact/);
    expect(text).to.match(/ten calls to GET \/joke: 10 answered, 10 payments settled on chain/);
    expect(text).to.match(/merchant received\s+0\.01 NETD \(10000 base units\)\n.*\n\s+- the merchant's balance grew by exactly one cent/);
    expect(text).to.match(/the client refuses before signing anything: "not paying 127\.0\.0\.1:\d+: the price 0\.05 is above the maximum per payment 0\.01"/);
    expect(text).to.match(/1000 calls \(the last 100 with 50 in flight on the one channel\): 1000 answered/);
    expect(text).to.match(/it received 0\.10 NETD\n\s+- exactly \$0\.10: a thousand times a hundredth of a cent/);
    expect(text).to.match(/a cooperative refund\): it spent 0\.10 NETD in all/);
    expect(text).to.match(
      /transactions\s+4 \(deposit, claim, settle, refund\) for 1000 paid calls\n\s+gas per call\s+\d{3} over a channel, against \d{2},\d{3} for an exact payment \(\d+× less\)/,
    );
    // Split payments: a thousand calls at $0.001 settle into the split, one distribution pays 70% / 20% / 10% exactly.
    expect(text).to.match(/an agent pays 1000 summaries at \$0\.001 over one payment channel: 1000 answered/);
    expect(text).to.match(/settles 1\.00 NETD into the split/);
    expect(text).to.match(
      /AI provider \(70%\)\s+0\.70 NETD\n\s+author 1 \(20%\)\s+0\.20 NETD\n\s+author 2 \(10%\)\s+0\.10 NETD\n\s+- exactly their shares of \$1\.00, to the base unit/,
    );
    expect(text).to.match(/left in the split\s+0\.00 NETD/);
    expect(text).to.match(
      /over A2A it asks a merchant agent for a market report, \$2\.00, paid in the task \(a2a-x402\) against the shop's signed checkout, the checkout mandate closed for it: "stablecoins: volumes up 12% this quarter"/,
    );
    // Under a mandate: two purchases over A2A and MCP, the third refused before signing, both matched on chain.
    expect(text).to.match(/spent under the mandate \$3\.50 of \$5\.00, in 2 payments/);
    expect(text).to.match(
      /a third purchase \(a \$2\.00 data set over HTTP\) is refused by the agent's own client before it signs: "\$2\.00 would exceed the mandate's budget: \$3\.50 of \$5\.00 already spent"/,
    );
    expect(text).to.match(/2\.00 NETD to 0x90F7…b906 as mandated \(nonce 0x[0-9a-f]{8}…, tx 0x[0-9a-f]{8}…\)\n\s+1\.50 NETD to 0x15d3…6A65 as mandated/);
    expect(text).to.match(/Where every dollar is ==\n\s+agent\s+65\.14 NETD\n\s+merchant\s+3\.06 NETD\n\s+creator 1\s+16\.50 NETD/);
    expect(text).to.match(/creator 2\s+9\.20 NETD\n\s+creator 3\s+6\.10 NETD/);
    expect(text).to.match(/total supply\s+100\.00 NETD\n\s+- the balances add up to the supply, to the last base unit/);
  });
});
