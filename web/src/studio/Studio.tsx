// The studio page (#/): pick a model and mode, fill the form built from the settings file,
// submit, watch progress, cancel, see the result.
export function Studio() {
  return <p>studio</p>;
}
