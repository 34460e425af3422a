// The car-sharing front end: sign in with a name, pick a plan, rent a car, follow its billing.
// Plain JavaScript served by the API (same origin, no build step).
const $ = (id) => document.getElementById(id)

async function api(path, init) {
  const res = await fetch(path, init)
  const body = await res.json()
  if (!res.ok) throw new Error(`${init?.method ?? 'GET'} ${path}: ${res.status} ${body.message ?? ''}`)
  return body
}

function signedIn(name) {
  $('login').hidden = true
  $('who').textContent = name
  $('fleet').hidden = false
  return Promise.all([api('/plans'), api('/cars')]).then(([plans, cars]) => {
    $('plan').replaceChildren(...plans.map((p) => new Option(`${p.name} (${p.dailyPrice.formatted}/day, ${p.minDays}+ days)`, p.id)))
    $('plan').plans = plans
    $('cars').replaceChildren(
      ...cars.map((car) => {
        const li = document.createElement('li')
        li.dataset.car = car.id
        const button = document.createElement('button')
        button.textContent = 'Rent'
        button.onclick = () => rent(car).catch((err) => console.error(`could not rent ${car.model}: ${err.message}`))
        li.append(`${car.label} · ${car.model}`, button)
        return li
      }),
    )
  })
}

async function rent(car) {
  const plan = $('plan').plans.find((p) => p.id === $('plan').value)
  const rental = await api('/rentals', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ carId: car.id, planId: plan.id, days: plan.minDays, customer: sessionStorage.customer }) })
  show(rental)
  // Billing charges the rental a moment later: follow it until it is settled.
  while (rental.billing.status === 'pending') {
    await new Promise((resolve) => setTimeout(resolve, 200))
    Object.assign(rental, await api(`/rentals/${rental.id}`))
    show(rental)
  }
}

function show(rental) {
  $('rental').hidden = false
  $('rental').dataset.id = rental.id
  $('rental-car').textContent = rental.car.label
  $('rental-days').textContent = rental.days
  $('rental-quote').textContent = rental.quote.formatted
  $('rental-billing').textContent = rental.billing.status
  $('receipt').onclick = () => showReceipt(rental)
}

// A bug left in on purpose (the DEMO test in e2e/ shows rig catching it): the amount charged
// is `billing.amount`, not `charge.amount`, so the receipt throws in the page.
function showReceipt(rental) {
  $('receipt-text').textContent = `${rental.customer}: ${rental.charge.amount.formatted}`
  $('receipt-text').hidden = false
}

$('login').onsubmit = (e) => {
  e.preventDefault()
  sessionStorage.customer = $('customer').value.trim()
  signedIn(sessionStorage.customer)
}
if (sessionStorage.customer) signedIn(sessionStorage.customer)
