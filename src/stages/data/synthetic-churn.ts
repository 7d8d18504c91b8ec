import { createRng } from '../ml/random.ts';
import { blend, clamp, exponential, pickIndex, poisson, round } from './sampling.ts';
import { parseSyntheticOptions, type SyntheticOptionsInput } from './synthetic-options.ts';
import { createTable, type Table } from './table.ts';

/**
 * A telecom-style churn dataset for demos and tests: binary classification with a known
 * answer. `churned` is drawn from a logistic model of the features (`churnLogit`), tuned
 * so the true score separates the classes with an ROC AUC of about 0.85 and about a
 * quarter of customers churn; a model trained on the features can therefore learn it,
 * and how close it gets to 0.85 says how well it did. `customer_id` and `email` are
 * identifiers (PII) with no signal, there to be dropped.
 */
export const CHURN = {
  target: 'churned',
  task: 'classification',
  pii: ['customer_id', 'email'],
} as const;

export const CONTRACTS = ['month', 'year', 'two_year'] as const;
export const PLANS = ['basic', 'standard', 'premium'] as const;
export type Contract = (typeof CONTRACTS)[number];
export type Plan = (typeof PLANS)[number];

/** Category frequencies at drift 0 and drift 1 (drifted: more monthly contracts, pricier plans). */
const CONTRACT_SHARES = { reference: [0.55, 0.25, 0.2], drifted: [0.8, 0.12, 0.08] };
const PLAN_SHARES = { reference: [0.5, 0.3, 0.2], drifted: [0.2, 0.3, 0.5] };
/** Mean tenure in months by contract, before drift shortens it. */
const TENURE_MEAN: Record<Contract, number> = { month: 14, year: 34, two_year: 52 };
const PLAN_CHARGE: Record<Plan, number> = { basic: 30, standard: 60, premium: 90 };
const CONTRACT_EFFECT: Record<Contract, number> = { month: 0, year: -1.4, two_year: -2.8 };
const PLAN_EFFECT: Record<Plan, number> = { basic: 0.3, standard: 0, premium: -0.35 };

export type ChurnFeatures = {
  tenure: number;
  monthly_charges: number;
  support_calls: number;
  contract: Contract;
  plan: Plan;
};

/**
 * The true log-odds of churn. Short tenure, high charges, many support calls and monthly
 * contracts raise it. Exported so tests (and curious people) can score a table exactly.
 */
export function churnLogit(features: ChurnFeatures): number {
  return (
    -0.3 -
    0.65 * (features.tenure / 12) +
    0.7 * ((features.monthly_charges - 60) / 20) +
    0.65 * features.support_calls +
    CONTRACT_EFFECT[features.contract] +
    PLAN_EFFECT[features.plan]
  );
}

export function generateChurn(input: SyntheticOptionsInput = {}): Table {
  const { rows, seed, drift } = parseSyntheticOptions(input);
  const rng = createRng(seed);
  const contractShares = blend(CONTRACT_SHARES.reference, CONTRACT_SHARES.drifted, drift);
  const planShares = blend(PLAN_SHARES.reference, PLAN_SHARES.drifted, drift);

  const ids: string[] = [];
  const emails: string[] = [];
  const tenure = new Float64Array(rows);
  const monthly = new Float64Array(rows);
  const total = new Float64Array(rows);
  const plans: string[] = [];
  const calls = new Float64Array(rows);
  const contracts: string[] = [];
  const churned = new Float64Array(rows);

  for (let i = 0; i < rows; i++) {
    // Always the same draws in the same order; drift only changes how they are used.
    const uContract = rng.next();
    const uPlan = rng.next();
    const uTenure = rng.next();
    const zCharge = rng.normal();
    const uCalls = rng.next();
    const zTotal = rng.normal();
    const uChurn = rng.next();

    const contract = CONTRACTS[pickIndex(uContract, contractShares)] ?? 'month';
    const plan = PLANS[pickIndex(uPlan, planShares)] ?? 'basic';
    const months = clamp(round(1 + exponential(uTenure, TENURE_MEAN[contract] * (1 - 0.4 * drift))), 1, 72);
    const charge = round(Math.max(18.25, PLAN_CHARGE[plan] * (1 + 0.25 * drift) + 8 * zCharge), 2);
    const supportCalls = poisson(uCalls, 1.2 * (1 + drift));
    const logit = churnLogit({
      tenure: months,
      monthly_charges: charge,
      support_calls: supportCalls,
      contract,
      plan,
    });

    ids.push(`C${String(i + 1).padStart(6, '0')}`);
    emails.push(`user${i + 1}@example.com`);
    tenure[i] = months;
    monthly[i] = charge;
    total[i] = round(Math.max(0, months * charge * (1 + 0.02 * zTotal)), 2);
    plans.push(plan);
    calls[i] = supportCalls;
    contracts.push(contract);
    churned[i] = uChurn < 1 / (1 + Math.exp(-logit)) ? 1 : 0;
  }

  return createTable([
    { name: 'customer_id', type: 'text', values: ids },
    { name: 'email', type: 'text', values: emails },
    { name: 'tenure', type: 'numeric', values: tenure },
    { name: 'monthly_charges', type: 'numeric', values: monthly },
    { name: 'total_charges', type: 'numeric', values: total },
    { name: 'plan', type: 'categorical', values: plans },
    { name: 'support_calls', type: 'numeric', values: calls },
    { name: 'contract', type: 'categorical', values: contracts },
    { name: 'churned', type: 'numeric', values: churned },
  ]);
}
