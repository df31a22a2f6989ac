import { expect } from "chai";
import { parsePrice } from "../../src/x402/money";
import { InvalidInputError } from "../../src/errors";
import { formatAmount, formatDollars, parseAmount, parseBaseUnits, parseUnitsStrict } from "../../src/amounts";
import { parseAddress, shortAddress } from "../../src/addresses";

describe("amounts and addresses (src/amounts, src/addresses)", function () {
  describe("parseAmount", function () {
    const ok: [string, bigint][] = [
      ["12.5", 12_500_000n],
      ["0.000001", 1n],
      ["1000000", 1_000_000_000_000n],
      ["0", 0n],
      ["7.", 7_000_000n],
      [" 3.25 ", 3_250_000n],
      ["000.10", 100_000n],
    ];
    for (const [input, units] of ok) {
      it(`parses "${input}" as ${units} base units`, function () {
        expect(parseAmount(input)).to.equal(units);
      });
    }

    const bad: [string, RegExp][] = [
      ["0.0000001", /amount "0\.0000001" has 7 decimals; NET Dollar has 6/],
      ["-1", /amount "-1" is negative/],
      ["1e6", /amount "1e6" is not a decimal number/],
      ["", /amount is empty/],
      ["   ", /amount is empty/],
      ["1,000", /amount "1,000" is not a decimal number/],
      [".5", /amount "\.5" is not a decimal number/],
      ["0x10", /is not a decimal number/],
      ["+5", /is not a decimal number/],
      ["NaN", /is not a decimal number/],
      [(2n ** 256n).toString(), /above the largest possible amount/],
    ];
    for (const [input, message] of bad) {
      it(`rejects "${input}" naming the input`, function () {
        expect(() => parseAmount(input)).to.throw(InvalidInputError, message);
      });
    }

    it("accepts exactly 2^256 - 1 base units and amounts far above 2^53", function () {
      const max = 2n ** 256n - 1n;
      expect(parseAmount(`${max / 10n ** 6n}.${(max % 10n ** 6n).toString().padStart(6, "0")}`)).to.equal(max);
      expect(parseAmount("9007199254740993.000001")).to.equal(9_007_199_254_740_993_000_001n);
    });

    it("parses other tokens' decimals with parseUnitsStrict", function () {
      expect(parseUnitsStrict("1.5", 18)).to.equal(15n * 10n ** 17n);
      expect(() => parseUnitsStrict("1.5", 0, "amount", "WBTC-like")).to.throw(/has 1 decimals; WBTC-like has 0/);
    });
  });

  it("parseBaseUnits takes whole numbers only", function () {
    expect(parseBaseUnits("1000")).to.equal(1000n);
    expect(() => parseBaseUnits("1.5")).to.throw(/not a whole number of base units/);
    expect(() => parseBaseUnits((2n ** 256n).toString())).to.throw(/above 2\^256 - 1/);
  });

  it("formats base units as dollars", function () {
    expect(formatAmount(12_500_000n)).to.equal("12.50");
    expect(formatAmount(1n)).to.equal("0.000001");
    expect(formatAmount(1_234_567_890_000n)).to.equal("1,234,567.89");
    expect(formatAmount(0n)).to.equal("0.00");
    expect(formatAmount(-2_000_000n)).to.equal("-2.00");
    expect(formatDollars(250_000n)).to.equal("0.25 NETD");
  });

  it("parseAddress accepts lower case and valid checksums, and rejects the rest", function () {
    expect(parseAddress("0x70997970c51812dc3a010c7d01b50e0d17dc79c8")).to.equal("0x70997970C51812dc3A010C7d01b50e0d17dc79C8");
    expect(parseAddress("0x70997970C51812dc3A010C7d01b50e0d17dc79C8")).to.equal("0x70997970C51812dc3A010C7d01b50e0d17dc79C8");
    expect(() => parseAddress("0x70997970C51812dc3A010C7d01b50e0d17dc79c8", "payee")).to.throw(/payee ".*" has a bad checksum/);
    expect(() => parseAddress("0x1234")).to.throw(/is not an address/);
    expect(() => parseAddress("70997970c51812dc3a010c7d01b50e0d17dc79c8")).to.throw(/is not an address/);
    expect(shortAddress("0x70997970C51812dc3A010C7d01b50e0d17dc79C8")).to.equal("0x7099…79C8");
  });
});

describe("x402 prices (parsePrice)", function () {
  it("takes prices as people write them: $5, 5, $.5, .5, $0.001; refuses zero and sub-unit prices", function () {
    expect(["$5", "5", "$.5", ".5", "$0.001", " $1 "].map(parsePrice)).to.deep.equal([5_000_000n, 5_000_000n, 500_000n, 500_000n, 1_000n, 1_000_000n]);
    expect(() => parsePrice("$0")).to.throw(/price "\$0" is zero/);
    expect(() => parsePrice("0.0000001")).to.throw(/has 7 decimals/);
    expect(() => parsePrice("five")).to.throw(/is not a decimal number/);
  });
});
