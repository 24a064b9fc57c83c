import { centsToAmount, parsePriceToCents, PriceInput } from '../../lib/domain/money';

describe('prices', () => {
  it.each([
    [0, 0],
    [0.1, 10],
    [49.99, 4999],
    ['49.90', 4990],
    ['7', 700],
    [1_000_000, 100_000_000],
    ['1000000.00', 100_000_000],
  ])('%p is %p cents', (input, cents) => {
    expect(parsePriceToCents(input)).toBe(cents);
  });

  it.each([-1, 1.001, '1.001', 1_000_000.01, 'abc', '', '1e3', NaN, Infinity, '-0.5', '01.5', 1e-7])('refuses %p', (input) => {
    expect(parsePriceToCents(input)).toBeUndefined();
  });

  it('sums in cents, so three tickets at 0.10 cost exactly 0.3', () => {
    expect(centsToAmount(3 * parsePriceToCents(0.1)!)).toBe(0.3);
  });

  it('reports a field problem through the zod schema', () => {
    const result = PriceInput.safeParse(12.345);
    expect(result.success).toBe(false);
  });
});
