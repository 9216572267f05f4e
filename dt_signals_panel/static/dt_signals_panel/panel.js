// Behaviour for the Signal activity panel arrives with the browser work.
