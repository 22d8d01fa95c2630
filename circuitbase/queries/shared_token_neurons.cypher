// name: shared_token_neurons
// description: Tokens that neurons of at least min_models models fire on (ACTIVATES_ON, e.g. from N2G), with those neurons: candidate universal neurons, found where tokenizers meet, at the token string.
// param: min_models: int = 2
// param: min_activation: float = 0.0
// param: token: str = null | names: Token.text
// returns: token, n_models, models, neurons
// example: circuitbase query run shared_token_neurons --param min_models=2 --param min_activation=0.5
MATCH (n:Neuron)-[a:ACTIVATES_ON]->(t:Token)
WHERE a.activation >= $min_activation AND ($token IS NULL OR t.text = $token)
WITH t, collect(DISTINCT n.model) AS models, collect(DISTINCT n.uid) AS neurons
WHERE size(models) >= $min_models
RETURN t.text AS token, size(models) AS n_models, models, neurons
ORDER BY n_models DESC, token
