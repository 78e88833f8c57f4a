// The gallery page (#/gallery): the server's finished results with filters, sort and paging.
export function Gallery() {
  return <p>gallery</p>;
}
