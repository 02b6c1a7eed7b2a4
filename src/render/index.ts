/**
 * Pictures of IOVA spaces: build a {@link Scene} from an address space (alone, with a solver's
 * answer, or with a layout and its violations), then render it as a self-contained SVG or an
 * HTML page with hover details and tables. The axis is segmented, not linear (see
 * {@link SegmentedScale}).
 */
export { renderHtml } from './html.js';
export { assignLanes, laneCount, type Span } from './lanes.js';
export { HOLE_CATEGORIES, type HoleCategory, holeCategory } from './palette.js';
export { type Extent, LOG2_FLOOR, log2Big, type ScaleOptions, type Segment, SegmentedScale } from './scale.js';
export {
  type IoasQuestion,
  type IoasSceneOptions,
  type LayoutSceneOptions,
  type Scene,
  type SceneConflict,
  type SceneHole,
  type SceneMapping,
  type SceneOptions,
  type ScenePlacement,
  type SceneWindow,
  sceneOfIoasAnswer,
  sceneOfLayout,
  sceneOfSolution,
  sceneOfSpace,
  type Verdict,
} from './scene.js';
export { boundariesOf, type RenderOptions, renderSvg, SCALE_NOTE } from './svg.js';
export { renderTxt, TXT_COLUMNS } from './txt.js';
