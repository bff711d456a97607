// Confusion matrix and per-class precision / recall / F1 from true and predicted labels.
import { ClassScores } from './sweep-types';

export function confusionMatrix(labels: ArrayLike<number>, predictions: ArrayLike<number>, numClasses: number): number[][] {
  const matrix = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
  for (let i = 0; i < labels.length; i++) matrix[labels[i]][predictions[i]] += 1;
  return matrix;
}

export function perClassScores(confusion: number[][], classes: readonly string[]): ClassScores[] {
  return classes.map((className, c) => {
    const truePositives = confusion[c][c];
    const support = confusion[c].reduce((a, b) => a + b, 0);
    const predicted = confusion.reduce((n, row) => n + row[c], 0);
    const precision = predicted ? truePositives / predicted : 0;
    const recall = support ? truePositives / support : 0;
    const f1 = precision + recall ? (2 * precision * recall) / (precision + recall) : 0;
    return { className, precision, recall, f1, support };
  });
}

/** An off-diagonal cell of a confusion matrix: how many images of one class were predicted as another. */
export interface Confusion {
  trueClass: number;
  predictedClass: number;
  count: number;
}

/**
 * The `n` largest off-diagonal cells, most images first (ties: by true, then predicted class), none
 * empty: the mistakes worth a look where the whole matrix (classes²) is too large to read.
 */
export function topConfusions(confusion: readonly (readonly number[])[], n: number): Confusion[] {
  const cells: Confusion[] = [];
  confusion.forEach((row, trueClass) => row.forEach((count, predictedClass) => {
    if (count > 0 && trueClass !== predictedClass) cells.push({ trueClass, predictedClass, count });
  }));
  return cells.sort((a, b) => b.count - a.count || a.trueClass - b.trueClass || a.predictedClass - b.predictedClass).slice(0, n);
}
