import { describe, expect, it } from 'vitest';
import { leafOf, TreeBuilder, treeFromJSON, treeToJSON } from '../../src/stages/ml/tree.ts';

/** x₀ ≤ 1 → leaf A; else x₁ ≤ 5 → leaf B, else leaf C. */
function smallTree() {
  const b = new TreeBuilder(1);
  const root = b.leaf();
  const [a, rest] = b.split(root, 0, 1);
  const [bLeaf, c] = b.split(rest, 1, 5);
  b.setValues(a, [10]);
  b.setValues(bLeaf, [20]);
  b.setValues(c, [30]);
  return b.build();
}

const valueAt = (tree: ReturnType<typeof smallTree>, x: number[]) =>
  tree.values[leafOf(tree, Float64Array.from(x), 0)];

describe('tree', () => {
  it('routes rows by x ≤ threshold, ties going left', () => {
    const tree = smallTree();
    expect(valueAt(tree, [0, 9])).toBe(10);
    expect(valueAt(tree, [1, 9])).toBe(10);
    expect(valueAt(tree, [2, 5])).toBe(20);
    expect(valueAt(tree, [2, 6])).toBe(30);
    expect(tree.feature.length).toBe(2);
    expect(tree.values.length).toBe(3);
  });

  it('a tree with no split is one leaf', () => {
    const b = new TreeBuilder(2);
    b.leaf([0.25, 0.75]);
    const tree = b.build();
    expect(leafOf(tree, Float64Array.of(123), 0)).toBe(0);
    expect(Array.from(tree.values)).toEqual([0.25, 0.75]);
  });

  it('round-trips through JSON and rejects trees that could loop or overrun', () => {
    const tree = smallTree();
    const json = JSON.parse(JSON.stringify(treeToJSON(tree)));
    expect(treeFromJSON(json, 2)).toEqual(tree);
    expect(() => treeFromJSON(json, 1)).toThrow(/splits on feature 1/);
    expect(() => treeFromJSON({ ...json, left: [0, -1] }, 2)).toThrow(/bad child reference/);
    expect(() => treeFromJSON({ ...json, values: [1, 2] }, 2)).toThrow(/one more leaf than splits/);
    expect(() => treeFromJSON({ ...json, threshold: [1, null] }, 2)).toThrow(/threshold\[1\]/);
  });
});
