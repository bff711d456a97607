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
