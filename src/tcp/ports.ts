/**
 * Ports Zeek considers likely server ports (its analyzers register them); used
 * only to orient connections whose first packet is not a SYN. Known gap: Zeek
 * builds this set from the scripts it loaded, so a bare-mode Zeek run may
 * orient a mid-stream connection differently.
 */
const LIKELY_SERVER_PORTS = new Set<number>([
  21, 22, 23, 25, 53, 79, 80, 81, 88, 102, 110, 111, 113, 135, 137, 139, 143, 179, 389, 443, 445, 465, 502, 513, 514,
  563, 585, 587, 614, 631, 636, 989, 990, 992, 993, 994, 995, 1080, 1194, 1433, 1521, 1723, 1812, 1883, 2049, 2082,
  2083, 2181, 2375, 2376, 2811, 3128, 3268, 3269, 3306, 3389, 4369, 5060, 5061, 5222, 5223, 5269, 5432, 5671, 5672,
  5900, 5984, 6379, 6443, 6666, 6667, 6668, 6669, 6697, 8000, 8008, 8080, 8081, 8088, 8443, 8888, 9092, 9200, 9418,
  11211, 20000, 27017,
]);

export function isLikelyServerPort(port: number): boolean {
  return LIKELY_SERVER_PORTS.has(port);
}
