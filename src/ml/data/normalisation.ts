// Per-family pixel normalisation (DESIGN.md section 3). BiomedCLIP (open-clip-timm) was trained
// with the CLIP constants; UNI and timm ViTs with ImageNet's; Google's ViT with 0.5/0.5.
import type { FamilyName } from '../models/encoder';

export type Triple = [number, number, number];

export const CLIP_MEAN: Triple = [0.48145466, 0.4578275, 0.40821073];
export const CLIP_STD: Triple = [0.26862954, 0.26130258, 0.27577711];
export const IMAGENET_MEAN: Triple = [0.485, 0.456, 0.406];
export const IMAGENET_STD: Triple = [0.229, 0.224, 0.225];
export const HALF: Triple = [0.5, 0.5, 0.5];

export function familyNormalisation(family: FamilyName): { mean: Triple; std: Triple } {
  switch (family) {
    case 'openai-clip':
    case 'hf-clip':
    case 'open-clip-timm':
      return { mean: [...CLIP_MEAN], std: [...CLIP_STD] };
    case 'timm-vit':
      return { mean: [...IMAGENET_MEAN], std: [...IMAGENET_STD] };
    case 'hf-vit':
      return { mean: [...HALF], std: [...HALF] };
  }
}
