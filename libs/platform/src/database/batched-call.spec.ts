import { BatchedCall } from './batched-call';

describe('BatchedCall', () => {
  it('runs calls that arrive together as one batch and answers each in order', async () => {
    const batches: number[][] = [];
    const call = new BatchedCall<number, number>(
      async (inputs) => {
        batches.push(inputs);
        await new Promise((r) => setTimeout(r, 5));
        return inputs.map((i) => i * 2);
      },
      100,
      1,
    );
    const answers = await Promise.all([1, 2, 3, 4, 5].map((i) => call.call(i)));
    expect(answers).toEqual([2, 4, 6, 8, 10]);
    expect(batches).toEqual([[1], [2, 3, 4, 5]]);
  });

  it('fails every call of a failed batch', async () => {
    const call = new BatchedCall<number, number>(() => Promise.reject(new Error('down')));
    await expect(call.call(1)).rejects.toThrow('down');
  });
});
