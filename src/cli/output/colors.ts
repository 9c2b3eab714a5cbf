import pc from 'picocolors';

/** Colours told apart at a glance, given in turn to the sources of interleaved lines (containers, services). */
const SOURCE_COLORS = [pc.cyan, pc.magenta, pc.green, pc.yellow, pc.blue, pc.red];

/** The colour of the `index`-th source. */
export function sourceColor(index: number): (text: string) => string {
  return SOURCE_COLORS[index % SOURCE_COLORS.length] ?? pc.cyan;
}
