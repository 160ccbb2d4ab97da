// What training produces: the LoRA adapter (null for a linear probe) and the head.
import type { LoraAdapter } from '../adapters/loraAdapter';
import type { LinearHead } from '../adapters/linearHead';

export class TrainedModel {
  constructor(
    readonly adapter: LoraAdapter | null,
    readonly head: LinearHead,
  ) {}

  trainableParameterCount(): number {
    return (this.adapter?.parameterCount() ?? 0) + this.head.w.size + this.head.b.size;
  }

  dispose(): void {
    this.adapter?.dispose();
    this.head.dispose();
  }
}
