export interface BenchResult {
  name: string;
  value: number;
  unit: string;
  note?: string;
}

export type BenchModule = () => Promise<BenchResult[]>;
