// What a trial's results and summary keep of its test evaluation (lib/sweep-types.ts TestScores): the
// per-class scores and the confusion matrix stay in S3 beside the head.
import { TestScores } from './sweep-types';

export function testScores(evaluation: TestScores): TestScores {
  const { perClass: _perClass, confusion: _confusion, ...scores } = evaluation;
  return scores;
}
