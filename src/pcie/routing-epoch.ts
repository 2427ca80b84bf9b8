// The routing epoch: a counter bumped by every change that can alter where a function's requests
// go. Those are configuration-space writes (guest or host side, state loads, resets: the Command
// register's Bus Master Enable and the bridges' bus numbers live there), a function attached to or
// detached from a bus, and an IOMMU connected to or disconnected from a root complex. A DMA port
// bound to its route (`pcie/function-dma-port.ts`) compares one number per access and resolves the
// route again only after such a change. The counter is shared by every topology in the process: a
// change anywhere makes every port re-resolve once, which is always correct.
export const routingEpoch = { value: 0 };

/** Records a change that can alter a route. */
export function routingChanged(): void {
  routingEpoch.value++;
}
